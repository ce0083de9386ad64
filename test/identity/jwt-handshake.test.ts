import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPlainSocket } from '../support/clients';
import { startCluster } from '../support/cluster';
import { useCluster, useRedis } from '../support/hooks';
import {
  AUDIENCE,
  answerOf,
  hsToken,
  ISSUER,
  JWT_SECRET,
  type JwksServer,
  keyToken,
  type SigningKey,
  signingKey,
  startJwksServer,
  tryConnect,
} from '../support/identity';
import { sleep } from '../support/wait';

const JWKS_COOLDOWN_MS = 300;
let rsa: SigningKey;
let ec: SigningKey;
let jwks: JwksServer;

beforeAll(async () => {
  rsa = await signingKey('rsa-1', 'RS256');
  ec = await signingKey('ec-1', 'ES256');
  jwks = await startJwksServer([rsa, ec]);
});
afterAll(() => jwks.close());

const unauthorized = (message: RegExp) => ({ code: 'UNAUTHORIZED', message: expect.stringMatching(message) });

describe('signed-in users (JWT), across three gateways on one Redis', () => {
  const cluster = useCluster({
    gateways: 3,
    auth: {
      secret: JWT_SECRET,
      get jwksUrl() {
        return jwks.url;
      },
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksCooldownMs: JWKS_COOLDOWN_MS,
    },
  });

  it('takes a valid HS256, RS256 or ES256 token on any gateway: sub is the id, the name claim the name', async () => {
    const tokens = [
      await hsToken('user-hs', { name: 'Alice' }),
      await keyToken(rsa, 'user-rs', { name: 'Bob' }),
      await keyToken(ec, 'user-es'),
    ];
    const answers = await Promise.all(
      tokens.map((token, i) => tryConnect(cluster.gateways[i]!.url, { auth: { token } }).then(answerOf)),
    );
    expect(answers).toEqual([
      { user: { id: 'user-hs', name: 'Alice' } },
      { user: { id: 'user-rs', name: 'Bob' } },
      { user: { id: 'user-es', name: 'user-es' } },
    ]);
    const session = await tryConnect(cluster.gateways[0]!.url, { auth: { token: tokens[0] } });
    expect('session' in session && session.session.expiresAt).toBeGreaterThan(Date.now() + 3_500_000);
    expect('session' in session && session.session.guestToken).toBeUndefined();
  });

  it('refuses every failure mode with UNAUTHORIZED and a message naming the check that failed', async () => {
    const now = Math.floor(Date.now() / 1000);
    const signed = (build: (jwt: SignJWT) => SignJWT, secret = JWT_SECRET) =>
      build(new SignJWT({ name: 'Mallory' }).setProtectedHeader({ alg: 'HS256' }).setSubject('mallory')).sign(
        new TextEncoder().encode(secret),
      );
    const full = (jwt: SignJWT) => jwt.setIssuer(ISSUER).setAudience(AUDIENCE);
    const cases: [string, string | Promise<string>, RegExp][] = [
      ['expired', signed((j) => full(j).setExpirationTime(now - 60)), /expired/],
      [
        'not yet valid',
        signed((j) =>
          full(j)
            .setNotBefore(now + 600)
            .setExpirationTime(now + 3600),
        ),
        /not yet valid/,
      ],
      [
        'bad signature',
        hsToken('mallory', {}, { secret: 'another-secret-of-at-least-32-characters!' }),
        /signature/,
      ],
      [
        'wrong issuer',
        signed((j) => j.setIssuer('https://evil.example/').setAudience(AUDIENCE).setExpirationTime('1h')),
        /issuer/,
      ],
      [
        'wrong audience',
        signed((j) => j.setIssuer(ISSUER).setAudience('another-app').setExpirationTime('1h')),
        /audience/,
      ],
      ['no expiry', signed((j) => full(j)), /exp/],
      [
        'alg none',
        new UnsecuredJWT({ name: 'Mallory' })
          .setSubject('mallory')
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setExpirationTime('1h')
          .encode(),
        /algorithm "none" is not accepted/,
      ],
      // HS256 signed with the identity provider's public key: checked against AUTH_JWT_SECRET, never the key set.
      ['HS/RS confusion', signed((j) => full(j).setExpirationTime('1h'), rsa.publicPem), /signature/],
      ['unknown kid', keyToken({ ...rsa, kid: 'rsa-unknown' }, 'mallory'), /kid/],
      ['not a JWT', 'abc.def.ghi', /malformed/],
      ['no sub', signed((j) => full(j).setExpirationTime('1h').setSubject('')), /sub/],
    ];
    const answers: [string, unknown][] = [];
    for (const [label, token, _] of cases) {
      answers.push([
        label,
        answerOf(
          await tryConnect(cluster.gateways[answers.length % 3]!.url, { auth: { token: await token } }),
        ),
      ]);
    }
    expect(answers).toEqual(cases.map(([label, , message]) => [label, unauthorized(message)]));
  });

  it('follows a key rotation: a new kid is fetched, the retired key stops working', async () => {
    const next = await signingKey('rsa-2', 'RS256');
    const before = await tryConnect(cluster.gateways[0]!.url, {
      auth: { token: await keyToken(next, 'rotated') },
    });
    expect(answerOf(before)).toEqual(unauthorized(/kid/));
    jwks.publish([next, ec]);
    await sleep(JWKS_COOLDOWN_MS + 100);
    const answers = [];
    for (const gateway of cluster.gateways) {
      answers.push(
        answerOf(await tryConnect(gateway.url, { auth: { token: await keyToken(next, 'rotated') } })),
      );
    }
    expect(answers).toEqual(Array(3).fill({ user: { id: 'rotated', name: 'rotated' } }));
    await sleep(JWKS_COOLDOWN_MS + 100);
    // The retired key's tokens are refused once the set was fetched again (each gateway caches its own copy).
    const retired = [];
    for (const gateway of cluster.gateways) {
      retired.push(answerOf(await tryConnect(gateway.url, { auth: { token: await keyToken(rsa, 'old') } })));
    }
    expect(retired).toEqual(Array(3).fill(unauthorized(/kid/)));
    jwks.publish([rsa, ec]);
  });

  it('refuses a guest token passed as a user token, and a tampered guest token', async () => {
    const guest = await tryConnect(cluster.gateways[0]!.url);
    const guestToken = 'session' in guest ? guest.session.guestToken! : '';
    expect(answerOf(await tryConnect(cluster.gateways[1]!.url, { auth: { token: guestToken } }))).toEqual(
      unauthorized(/not accepted|signature/),
    );
    const [header, payload, signature] = guestToken.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'guest-someoneelse0000' })).toString('base64url')}.${signature}`;
    expect(answerOf(await tryConnect(cluster.gateways[2]!.url, { auth: { guestToken: forged } }))).toEqual(
      unauthorized(/guest token is not valid/),
    );
  });
});

describe('algorithm confusion with only a key set configured', () => {
  const redis = useRedis();

  it('refuses an HS256 token signed with the public key (no HMAC key exists to check it with)', async () => {
    const cluster = await startCluster({
      redisUrl: redis.url,
      gateways: 1,
      auth: { jwksUrl: jwks.url, guests: false },
    });
    const confused = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: rsa.kid })
      .setSubject('mallory')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(rsa.publicPem));
    const url = cluster.gateways[0]!.url;
    expect(answerOf(await tryConnect(url, { auth: { token: confused } }))).toEqual(
      unauthorized(/algorithm "HS256" is not accepted \(accepted: RS256, ES256\)/),
    );
    expect(answerOf(await tryConnect(url, { auth: { token: await keyToken(rsa, 'carol') } }))).toEqual({
      user: { id: 'carol', name: 'carol' },
    });
    // Guests are off: no token, no entry.
    expect(answerOf(await tryConnect(url))).toEqual(unauthorized(/token is required/));
    expect(answerOf(await tryConnect(url, { auth: { name: 'visitor' } }))).toEqual(
      unauthorized(/token is required/),
    );
    // The plain protocol has no sign-in: its clients are guests, so with guests off it is closed too.
    const ws = url.replace(/^http/, 'ws');
    await expect(openPlainSocket(`${ws}/ws?room=lobby`)).rejects.toThrow('HTTP 401');
    await expect(openPlainSocket(ws)).rejects.toThrow('HTTP 401');
  });
});
