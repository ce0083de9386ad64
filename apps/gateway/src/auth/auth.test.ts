import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, Authenticator, isReservedName } from './authenticator';
import { GuestTokens, guestName, newGuestId } from './guest-tokens';
import { JwtVerifier, TokenError } from './jwt-verifier';
import { dmRoomName, grantMatches, roomAccess } from './room-access';

const SECRET = 'a-secret-of-at-least-thirty-two-bytes!!';
const key = new TextEncoder().encode(SECRET);
const nowS = () => Math.floor(Date.now() / 1000);

function hs256(claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', ...header }).sign(key);
}

/** What `promise` was rejected with (the test fails if it was not). */
async function refusal(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a refusal');
}

describe('room access', () => {
  const visitor = (id: string, grants: string[] = []) => ({ user: { id }, grants });

  it('opens public rooms to everyone, private ones to their grants, DMs to their two users', () => {
    expect(roomAccess.allows(visitor('a'), 'lobby')).toBe(true);
    expect(roomAccess.allows(visitor('a'), 'private-x')).toBe(false);
    expect(roomAccess.allows(visitor('a', ['private-x']), 'private-x')).toBe(true);
    expect(roomAccess.allows(visitor('a', ['private-x']), 'private-xy')).toBe(false);
    expect(roomAccess.allows(visitor('a', ['private-team-*']), 'private-team-1')).toBe(true);
    expect(roomAccess.allows(visitor('a', ['private-team-*']), 'private-other')).toBe(false);
    const dm = dmRoomName('alice', 'bob');
    expect(dm).toBe(dmRoomName('bob', 'alice'));
    expect(dm).toMatch(/^dm-[\w-]{28}\.[\w-]{28}$/);
    expect(roomAccess.allows(visitor('alice'), dm)).toBe(true);
    expect(roomAccess.allows(visitor('bob'), dm)).toBe(true);
    expect(roomAccess.allows(visitor('mallory'), dm)).toBe(false);
    expect(roomAccess.allows(visitor('alice'), dm.split('.')[0]!)).toBe(false);
    expect(roomAccess.allows(visitor('alice'), `${dm.split('.')[0]!}.`)).toBe(true);
  });

  it('matches grants exactly, or by a prefix ending in *', () => {
    expect(grantMatches('private-a', 'private-a')).toBe(true);
    expect(grantMatches('private-a', 'private-ab')).toBe(false);
    expect(grantMatches('private-a*', 'private-ab')).toBe(true);
    expect(grantMatches('private-a*', 'private-b')).toBe(false);
    expect(grantMatches('*', 'anything')).toBe(true);
  });

  it('says why a room is refused', () => {
    expect(() => roomAccess.check(visitor('a'), 'lobby')).not.toThrow();
    expect(() => roomAccess.check(visitor('a'), 'private-x')).toThrow(
      'room private-x is private: your token does not grant it',
    );
    const dm = dmRoomName('b', 'c');
    let error: unknown;
    try {
      roomAccess.check(visitor('a'), dm);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      code: 'FORBIDDEN',
      message: `room ${dm} is a direct conversation of two other users`,
    });
  });
});

describe('guest tokens', () => {
  const tokens = new GuestTokens(SECRET);

  it('names guests and their ids at random', () => {
    expect(guestName()).toMatch(/^guest-[0-9a-f]{4}$/);
    expect(newGuestId()).toMatch(/^guest-[\w-]{16}$/);
    expect(newGuestId()).not.toBe(newGuestId());
  });

  it('gives back the guest a token names, on any gateway with the same secret', async () => {
    const token = await tokens.sign({ id: 'guest-1', name: 'bob' });
    expect(await new GuestTokens(async () => SECRET).verify(token)).toEqual({ id: 'guest-1', name: 'bob' });
  });

  it('is good for 90 days', async () => {
    const now = 1_700_000_000_000;
    const token = await tokens.sign({ id: 'guest-1', name: 'bob' }, now);
    const day = 24 * 3600 * 1000;
    expect(await tokens.verify(token, now + 90 * day - 1_000)).toEqual({ id: 'guest-1', name: 'bob' });
    expect(await refusal(tokens.verify(token, now + 90 * day))).toBeInstanceOf(TokenError);
  });

  it('refuses a token altered in any part, or signed by another cluster', async () => {
    const token = await tokens.sign({ id: 'guest-1', name: 'bob' });
    const [h, p, s] = token.split('.') as [string, string, string];
    const otherPayload = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'guest-2' }),
    ).toString('base64url');
    for (const bad of [
      `${h}.${otherPayload}.${s}`,
      `${h}.${p}.${s.slice(0, -2)}`,
      `${h}.${p}`,
      `${h}.${p}.${s}.x`,
      `x${h}.${p}.${s}`,
      await new GuestTokens('another-secret-another-secret-another').sign({ id: 'guest-1', name: 'bob' }),
    ]) {
      const error = await refusal(tokens.verify(bad));
      expect(error).toBeInstanceOf(TokenError);
      expect(error.message).toBe('guest token is not valid (altered, expired, or from another cluster)');
    }
  });

  it('refuses a correctly signed token without the guest claims', async () => {
    const forge = async (claims: Record<string, unknown>) => {
      const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
      const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
      const { createHmac } = await import('node:crypto');
      const sig = createHmac('sha256', SECRET).update(`${header}.${payload}`).digest('base64url');
      return `${header}.${payload}.${sig}`;
    };
    const exp = nowS() + 60;
    const good = { iss: 'chorus', aud: 'chorus:guest', sub: 'guest-1', exp };
    expect(await tokens.verify(await forge(good))).toEqual({ id: 'guest-1', name: undefined });
    for (const claims of [
      { ...good, iss: 'other' },
      { ...good, aud: 'chorus' },
      { ...good, exp: String(exp) },
      { ...good, exp: nowS() - 1 },
    ]) {
      expect((await refusal(tokens.verify(await forge(claims)))).message).toMatch(/altered, expired/);
    }
    for (const claims of [
      { ...good, sub: 'user-1' },
      { ...good, sub: 7 },
    ]) {
      expect((await refusal(tokens.verify(await forge(claims)))).message).toBe(
        'guest token is not valid (no guest id)',
      );
    }
    const notJson = (await forge(good)).split('.');
    notJson[1] = Buffer.from('{not json').toString('base64url');
    const header = notJson[0]!;
    const { createHmac } = await import('node:crypto');
    notJson[2] = createHmac('sha256', SECRET).update(`${header}.${notJson[1]}`).digest('base64url');
    expect((await refusal(tokens.verify(notJson.join('.')))).message).toMatch(/altered, expired/);
  });

  it('tells guest claims from a user’s', () => {
    expect(GuestTokens.isGuestClaims({ aud: 'chorus:guest' })).toBe(true);
    expect(GuestTokens.isGuestClaims({ aud: ['x', 'chorus:guest'] })).toBe(true);
    expect(GuestTokens.isGuestClaims({ aud: 'chorus' })).toBe(false);
    expect(GuestTokens.isGuestClaims({ aud: ['chorus'] })).toBe(false);
    expect(GuestTokens.isGuestClaims({})).toBe(false);
  });
});

describe('JwtVerifier', () => {
  let jwks: Server;
  let jwksUrl: string;
  let es: Awaited<ReturnType<typeof generateKeyPair>>;

  beforeAll(async () => {
    es = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(es.publicKey)), kid: 'k1', alg: 'ES256' };
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(() => {
    jwks.close();
  });

  const es256 = (claims: Record<string, unknown>, kid = 'k1') =>
    new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid }).sign(es.privateKey);

  it('is enabled by a secret or a key set', () => {
    expect(new JwtVerifier({}).enabled).toBe(false);
    expect(new JwtVerifier({ secret: SECRET }).enabled).toBe(true);
    expect(new JwtVerifier({ jwksUrl: 'http://127.0.0.1:1/' }).enabled).toBe(true);
  });

  it('accepts HS256 with the secret and ES256 with the key set, checking exp, iss and aud', async () => {
    const verifier = new JwtVerifier({ secret: SECRET, jwksUrl, issuer: 'idp', audience: 'chorus' });
    const claims = { sub: 'u1', iss: 'idp', aud: 'chorus', exp: nowS() + 60 };
    expect(await verifier.verify(await hs256(claims))).toMatchObject({ sub: 'u1' });
    expect(await verifier.verify(await es256(claims))).toMatchObject({ sub: 'u1' });
    const message = async (token: Promise<string> | string, v = verifier) =>
      (await refusal(v.verify(await token))).message;
    expect(await message(hs256({ ...claims, exp: nowS() - 60 }))).toBe('token expired (exp is in the past)');
    // Within the 5 s the clocks may differ by.
    expect(await verifier.verify(await hs256({ ...claims, exp: nowS() - 2 }))).toMatchObject({ sub: 'u1' });
    expect(await message(hs256({ ...claims, nbf: nowS() + 60 }))).toBe(
      'token not yet valid (nbf is in the future)',
    );
    expect(await message(hs256({ ...claims, iss: 'other' }))).toBe(
      'token issuer (iss) is not the expected one',
    );
    expect(await message(hs256({ ...claims, aud: 'other' }))).toBe(
      'token audience (aud) is not the expected one',
    );
    expect(await message(hs256({ sub: 'u1', iss: 'idp', aud: 'chorus' }))).toBe(
      'token has no valid expiry (exp)',
    );
    expect(await message(es256(claims, 'k2'))).toBe('token key (kid) is not in the key set');
    const forged = (await hs256(claims)).split('.');
    forged[2] = `${forged[2]!.slice(0, -4)}AAAA`;
    expect(await message(forged.join('.'))).toBe('token signature is not valid');
    expect(await message('not-a-token')).toBe('token is malformed (its header is not base64url JSON)');
    expect(await message(new UnsecuredJWT(claims).encode())).toBe(
      'token algorithm "none" is not accepted (accepted: HS256, RS256, ES256)',
    );
  });

  it('accepts only the algorithms of the keys it has', async () => {
    const claims = { sub: 'u1', exp: nowS() + 60 };
    const hsOnly = new JwtVerifier({ secret: SECRET });
    expect((await refusal(hsOnly.verify(await es256(claims)))).message).toBe(
      'token algorithm "ES256" is not accepted (accepted: HS256)',
    );
    const esOnly = new JwtVerifier({ jwksUrl });
    expect((await refusal(esOnly.verify(await hs256(claims)))).message).toBe(
      'token algorithm "HS256" is not accepted (accepted: RS256, ES256)',
    );
    expect((await refusal(new JwtVerifier({}).verify(await hs256(claims)))).message).toBe(
      'token algorithm "HS256" is not accepted (accepted: none)',
    );
  });

  it('says when the key set cannot be read', async () => {
    const verifier = new JwtVerifier({ jwksUrl: 'http://127.0.0.1:1/jwks.json' });
    expect((await refusal(verifier.verify(await es256({ sub: 'u1', exp: nowS() + 60 })))).message).toBe(
      'the key set (AUTH_JWKS_URL) could not be read; try again',
    );
  });
});

describe('Authenticator', () => {
  const secret = async () => 'shared-secret-shared-secret-shared-secret';
  const auth = new Authenticator({ secret: SECRET }, secret);

  it('makes a new guest, with a token to come back as the same one', async () => {
    const first = await auth.authenticate({ name: 'bob' });
    expect(first.user).toMatchObject({ name: 'bob', guest: true });
    expect(first.user.id).toMatch(/^guest-/);
    expect(first.grants).toEqual([]);
    const again = await auth.authenticate({ guestToken: first.guestToken! });
    expect(again.user).toEqual(first.user);
    const renamed = await auth.authenticate({ name: 'robert', guestToken: first.guestToken! });
    expect(renamed.user).toEqual({ ...first.user, name: 'robert' });
    const unnamed = await auth.authenticate({});
    expect(unnamed.user.name).toMatch(/^guest-[0-9a-f]{4}$/);
  });

  it('refuses reserved names to guests, however written', async () => {
    for (const name of ['Admin', 's y s t e m', 'Módérator', 'ROOT!']) {
      expect(isReservedName(name)).toBe(true);
      const error = await refusal(auth.authenticate({ name }));
      expect(error).toBeInstanceOf(AuthError);
      expect(error).toMatchObject({
        code: 'INVALID_PAYLOAD',
        message: `name "${name}" is reserved; pick another`,
      });
    }
    expect(isReservedName('administration')).toBe(false);
  });

  it('refuses a guest token that is not valid, and guests where they are not allowed', async () => {
    expect(await refusal(auth.authenticate({ guestToken: 'a.b.c' }))).toMatchObject({ code: 'UNAUTHORIZED' });
    const closed = new Authenticator({ secret: SECRET, guests: false }, secret);
    expect(await refusal(closed.authenticate({ name: 'bob' }))).toMatchObject({
      code: 'UNAUTHORIZED',
      message: 'a token is required (auth: { token }); guests are not allowed here',
    });
  });

  it('signs in a user from a token: id, name, grants and expiry', async () => {
    const exp = nowS() + 60;
    const identity = await auth.authenticate({
      token: await hs256({ sub: 'u1', name: 'Alice', rooms: ['private-a'], exp }),
    });
    expect(identity).toEqual({
      user: { id: 'u1', name: 'Alice' },
      grants: ['private-a'],
      expiresAt: exp * 1000,
    });
    const unnamed = await auth.authenticate({ token: await hs256({ sub: 'x'.repeat(40), exp }) });
    expect(unnamed.user.name).toBe('x'.repeat(32));
    expect(unnamed.grants).toEqual([]);
  });

  it('refuses a token for what is wrong with it', async () => {
    const exp = nowS() + 60;
    const message = async (claims: Record<string, unknown>, now?: number) =>
      (await refusal(auth.authenticate({ token: await hs256(claims) }, now))) as AuthError;
    expect(await message({ sub: 'u1', exp: nowS() - 60 })).toMatchObject({
      code: 'UNAUTHORIZED',
      message: 'token expired (exp is in the past)',
    });
    // Expired by the handshake's clock, within the verifier's tolerance.
    expect((await message({ sub: 'u1', exp }, (exp + 1) * 1000)).message).toBe(
      'token expired (exp is in the past)',
    );
    expect((await message({ sub: 'u1', exp, aud: 'chorus:guest' })).message).toBe(
      'a guest token was given as token; pass it as guestToken',
    );
    expect((await message({ sub: ' u1', exp })).message).toMatch(
      /^token subject \(sub\) is not a valid user id: /,
    );
    expect((await message({ exp })).message).toMatch(/^token subject \(sub\) is not a valid user id: /);
    expect((await message({ sub: 'u1', name: '\u200B', exp })).message).toMatch(
      /^token name claim is not a valid display name: /,
    );
    expect((await message({ sub: 'u1', rooms: 'private-a', exp })).message).toBe(
      'token rooms claim must be a list of room names',
    );
    expect((await message({ sub: 'u1', rooms: ['private-a', 1], exp })).message).toBe(
      'token rooms claim must be a list of room names',
    );
    const noKeys = new Authenticator({}, secret);
    expect(await refusal(noKeys.authenticate({ token: await hs256({ sub: 'u1', exp }) }))).toMatchObject({
      code: 'UNAUTHORIZED',
      message: 'tokens are not accepted here (no AUTH_JWT_SECRET or AUTH_JWKS_URL)',
    });
  });

  it('signs guest tokens with the session secret when there is one, else with the shared one', async () => {
    const withSession = new Authenticator({ sessionSecret: 'session-secret-session-secret-session' }, secret);
    const guest = await withSession.authenticate({ name: 'bob' });
    expect(
      await new GuestTokens('session-secret-session-secret-session').verify(guest.guestToken!),
    ).toMatchObject({
      id: guest.user.id,
    });
    const shared = await auth.authenticate({ name: 'bob' });
    expect(await new GuestTokens(secret).verify(shared.guestToken!)).toMatchObject({ id: shared.user.id });
  });
});
