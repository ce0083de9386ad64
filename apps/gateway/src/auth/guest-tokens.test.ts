import { jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { GuestTokens, newGuestId } from './guest-tokens';

const SECRET = 'a-session-secret-of-32-characters-or-more';

describe('guest tokens', () => {
  it('name the same guest back, and are standard HS256 JWTs', async () => {
    const tokens = new GuestTokens(SECRET);
    const id = newGuestId();
    const token = await tokens.sign({ id, name: 'Wanda' });
    expect(await tokens.verify(token)).toEqual({ id, name: 'Wanda' });
    const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(SECRET), {
      issuer: 'chorus',
      audience: 'chorus:guest',
    });
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload.sub).toBe(id);
    expect(GuestTokens.isGuestClaims(payload)).toBe(true);
  });

  it('refuse any change, another secret, an expired token and a token that is not a guest token', async () => {
    const tokens = new GuestTokens(SECRET);
    const now = Date.now();
    const token = await tokens.sign({ id: 'guest-AAAAAAAAAAAAAAAA', name: 'Wanda' }, now);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forge = (changes: object) =>
      `${header}.${Buffer.from(JSON.stringify({ ...claims, ...changes })).toString('base64url')}.${signature}`;
    const flipped = `${signature.slice(0, -2)}${signature.at(-2) === 'A' ? 'B' : 'A'}${signature.at(-1)}`;
    const attempts = [
      forge({ sub: 'guest-BBBBBBBBBBBBBBBB' }),
      forge({ exp: claims.exp + 1 }),
      `${header}.${payload}.${flipped}`,
      `${header}.${payload}`,
      `${header}.${payload}.${signature}.extra`,
      `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`,
      await new GuestTokens(`${SECRET}!`).sign({ id: 'guest-AAAAAAAAAAAAAAAA', name: 'Wanda' }),
    ];
    for (const attempt of attempts)
      await expect(tokens.verify(attempt), attempt).rejects.toThrow(/not valid/);
    await expect(tokens.verify(token, now + 91 * 24 * 3600 * 1000)).rejects.toThrow(/not valid/);
    expect(await tokens.verify(token, now + 89 * 24 * 3600 * 1000)).toEqual({
      id: 'guest-AAAAAAAAAAAAAAAA',
      name: 'Wanda',
    });
  });

  it('take the secret when it arrives (shared through Redis), and fail while it cannot be read', async () => {
    let calls = 0;
    const tokens = new GuestTokens(async () => {
      calls += 1;
      if (calls === 1) throw new Error('redis away');
      return SECRET;
    });
    await expect(tokens.sign({ id: 'guest-x', name: 'x' })).rejects.toThrow('redis away');
    const token = await tokens.sign({ id: 'guest-x', name: 'x' });
    expect(await new GuestTokens(SECRET).verify(token)).toEqual({ id: 'guest-x', name: 'x' });
    await tokens.sign({ id: 'guest-y', name: 'y' });
    expect(calls).toBe(2);
  });
});
