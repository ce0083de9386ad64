import { randomBytes } from 'node:crypto';
import { type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { TokenError } from './jwt-verifier';

/** Who signs and checks guest tokens, so that no user token can pass for one and no guest token for a user's. */
const ISSUER = 'chorus';
const AUDIENCE = 'chorus:guest';
/** A guest token is good this long; every connection gets a fresh one, so only a guest gone this long is new again. */
const GUEST_TOKEN_TTL_S = 90 * 24 * 3600;

/** A display name for a guest who did not pick one: `guest-` and four hex digits. */
export function guestName(): string {
  return `guest-${randomBytes(2).toString('hex')}`;
}

/** A new guest id: `guest-` and 16 random base64url characters (96 bits). */
export function newGuestId(): string {
  return `guest-${randomBytes(12).toString('base64url')}`;
}

/**
 * Guest tokens: HS256 JWTs signed with the cluster's `SESSION_SECRET`, naming the guest's id (`sub`) and last
 * display name. A guest who hands one back on any gateway is the same user; a token changed in any way is
 * refused.
 */
export class GuestTokens {
  readonly #secret: () => Promise<string>;
  #key: Uint8Array | undefined;

  /** `secret` may have to be fetched (shared through Redis when `SESSION_SECRET` is not set). */
  constructor(secret: string | (() => Promise<string>)) {
    this.#secret = typeof secret === 'string' ? async () => secret : secret;
  }

  async #getKey(): Promise<Uint8Array> {
    this.#key ??= new TextEncoder().encode(await this.#secret());
    return this.#key;
  }

  async sign(guest: { id: string; name: string }): Promise<string> {
    return new SignJWT({ name: guest.name })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(guest.id)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${GUEST_TOKEN_TTL_S}s`)
      .sign(await this.#getKey());
  }

  /** The guest a token names; throws a `TokenError` for one this cluster did not sign, or that expired. */
  async verify(token: string): Promise<{ id: string; name: string | undefined }> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.#getKey(), {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch {
      throw new TokenError('guest token is not valid (altered, expired, or from another cluster)');
    }
    if (typeof payload.sub !== 'string' || !payload.sub.startsWith('guest-')) {
      throw new TokenError('guest token is not valid (no guest id)');
    }
    return { id: payload.sub, name: typeof payload.name === 'string' ? payload.name : undefined };
  }

  /** Whether `claims` look like a guest token's (a user token must not be one). */
  static isGuestClaims(claims: JWTPayload): boolean {
    const aud = claims.aud;
    return aud === AUDIENCE || (Array.isArray(aud) && aud.includes(AUDIENCE));
  }
}
