import { createHmac, timingSafeEqual } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { TokenError } from './jwt-verifier';
import { RandomPool } from './random-pool';

/** Who signs and checks guest tokens, so that no user token can pass for one and no guest token for a user's. */
const ISSUER = 'chorus';
const AUDIENCE = 'chorus:guest';
/** A guest token is good this long; every connection gets a fresh one, so only a guest gone this long is new again. */
const GUEST_TOKEN_TTL_S = 90 * 24 * 3600;
const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

const random = new RandomPool();

/** A display name for a guest who did not pick one: `guest-` and four hex digits. */
export function guestName(): string {
  return `guest-${random.bytes(2).toString('hex')}`;
}

/** A new guest id: `guest-` and 16 random base64url characters (96 bits). */
export function newGuestId(): string {
  return `guest-${random.bytes(12).toString('base64url')}`;
}

/**
 * Guest tokens: HS256 JWTs signed with the cluster's `SESSION_SECRET`, naming the guest's id (`sub`) and last
 * display name. A guest who hands one back on any gateway is the same user; a token changed in any way is
 * refused. Every connection of a guest signs one, so they are made with a plain HMAC (a few µs) rather than
 * through WebCrypto (≈ 200 µs a token, which a reconnect storm of guests would pay per connection).
 */
export class GuestTokens {
  readonly #secret: () => Promise<string>;
  #key: Buffer | undefined;

  /** `secret` may have to be fetched (shared through Redis when `SESSION_SECRET` is not set). */
  constructor(secret: string | (() => Promise<string>)) {
    this.#secret = typeof secret === 'string' ? async () => secret : secret;
  }

  async #getKey(): Promise<Buffer> {
    this.#key ??= Buffer.from(await this.#secret());
    return this.#key;
  }

  async sign(guest: { id: string; name: string }, now = Date.now()): Promise<string> {
    const iat = Math.floor(now / 1000);
    const claims = {
      name: guest.name,
      sub: guest.id,
      iss: ISSUER,
      aud: AUDIENCE,
      iat,
      exp: iat + GUEST_TOKEN_TTL_S,
    };
    const signed = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    return `${signed}.${mac(await this.#getKey(), signed).toString('base64url')}`;
  }

  /** The guest a token names; throws a `TokenError` for one this cluster did not sign, or that expired. */
  async verify(token: string, now = Date.now()): Promise<{ id: string; name: string | undefined }> {
    const invalid = new TokenError('guest token is not valid (altered, expired, or from another cluster)');
    const [header, payload, signature, ...rest] = token.split('.');
    if (header !== HEADER || payload === undefined || signature === undefined || rest.length > 0)
      throw invalid;
    const expected = mac(await this.#getKey(), `${header}.${payload}`);
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid;
    let claims: JWTPayload;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as JWTPayload;
    } catch {
      throw invalid;
    }
    if (claims.iss !== ISSUER || claims.aud !== AUDIENCE) throw invalid;
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= now) throw invalid;
    if (typeof claims.sub !== 'string' || !claims.sub.startsWith('guest-')) {
      throw new TokenError('guest token is not valid (no guest id)');
    }
    return { id: claims.sub, name: typeof claims.name === 'string' ? claims.name : undefined };
  }

  /** Whether `claims` look like a guest token's (a user token must not be one). */
  static isGuestClaims(claims: JWTPayload): boolean {
    const aud = claims.aud;
    return aud === AUDIENCE || (Array.isArray(aud) && aud.includes(AUDIENCE));
  }
}

function mac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
