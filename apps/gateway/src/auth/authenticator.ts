import { type HandshakeAuth, NameSchema, type User, UserIdSchema } from '@chorus/protocol';
import type { JWTPayload } from 'jose';
import { GuestTokens, guestName, newGuestId } from './guest-tokens';
import { type JwtOptions, JwtVerifier, TokenError } from './jwt-verifier';

/** Who a connection is, as the handshake established it. */
export interface Identity {
  user: User;
  /** Private rooms the user may enter: exact names, or prefixes ending in `*` (the token's `rooms` claim). */
  grants: readonly string[];
  /** When the user's token expires (ms since the Unix epoch); absent for guests. */
  expiresAt?: number;
  /** Guests: a fresh token naming them, for the client to keep. */
  guestToken?: string;
}

export interface AuthOptions extends JwtOptions {
  /** `AUTH_GUESTS` (default true): whether a handshake without a token gets a guest identity. */
  guests?: boolean | undefined;
  /** `SESSION_SECRET`: signs guest tokens; every gateway of a cluster must share it. */
  sessionSecret?: string | undefined;
}

/** Why a handshake was refused: `UNAUTHORIZED` (credentials) or `INVALID_PAYLOAD` (a name that cannot be used). */
export class AuthError extends Error {
  override name = 'AuthError';
  constructor(
    readonly code: 'UNAUTHORIZED' | 'INVALID_PAYLOAD',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Names a guest may not take, compared without case, accents, spaces or punctuation ("Admin", "s y s t e m"):
 * they would pass for the service or its staff. Signed-in users' names come from their tokens and are not checked.
 */
const RESERVED_NAMES = new Set([
  'admin',
  'administrator',
  'system',
  'server',
  'chorus',
  'moderator',
  'mod',
  'root',
  'support',
  'staff',
  'official',
]);

/** A name folded for the reserved-name check. */
function fold(name: string): string {
  return name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');
}

export function isReservedName(name: string): boolean {
  return RESERVED_NAMES.has(fold(name));
}

/**
 * The handshake's identity step: a signed-in user from a JWT (`auth.token`), a returning guest from a guest
 * token (`auth.guestToken`), or a new guest (when guests are allowed). Throws an `AuthError` saying what failed.
 */
export class Authenticator {
  readonly #jwt: JwtVerifier;
  readonly #guests: GuestTokens;
  readonly #allowGuests: boolean;

  /** `sharedSecret` signs guest tokens when `options.sessionSecret` is not set. */
  constructor(options: AuthOptions, sharedSecret: () => Promise<string>) {
    this.#jwt = new JwtVerifier(options);
    this.#allowGuests = options.guests ?? true;
    this.#guests = new GuestTokens(options.sessionSecret ?? sharedSecret);
  }

  async authenticate(auth: HandshakeAuth, now = Date.now()): Promise<Identity> {
    if (auth.token !== undefined) return this.#signedIn(auth.token, now);
    if (!this.#allowGuests) {
      throw new AuthError(
        'UNAUTHORIZED',
        'a token is required (auth: { token }); guests are not allowed here',
      );
    }
    let id = newGuestId();
    let name = auth.name;
    if (auth.guestToken !== undefined) {
      const guest = await this.#verifyGuest(auth.guestToken);
      id = guest.id;
      name ??= guest.name;
    }
    name ??= guestName();
    if (auth.name !== undefined && isReservedName(auth.name)) {
      throw new AuthError('INVALID_PAYLOAD', `name "${auth.name}" is reserved; pick another`);
    }
    const user: User = { id, name, guest: true };
    return { user, grants: [], guestToken: await this.#guests.sign(user) };
  }

  async #verifyGuest(token: string): Promise<{ id: string; name: string | undefined }> {
    try {
      return await this.#guests.verify(token);
    } catch (error) {
      throw new AuthError('UNAUTHORIZED', (error as Error).message);
    }
  }

  async #signedIn(token: string, now: number): Promise<Identity> {
    if (!this.#jwt.enabled) {
      throw new AuthError(
        'UNAUTHORIZED',
        'tokens are not accepted here (no AUTH_JWT_SECRET or AUTH_JWKS_URL)',
      );
    }
    let claims: JWTPayload;
    try {
      claims = await this.#jwt.verify(token);
    } catch (error) {
      if (error instanceof TokenError) throw new AuthError('UNAUTHORIZED', error.message);
      throw error;
    }
    if (GuestTokens.isGuestClaims(claims)) {
      throw new AuthError('UNAUTHORIZED', 'a guest token was given as token; pass it as guestToken');
    }
    const sub = UserIdSchema.safeParse(claims.sub);
    if (!sub.success) {
      throw new AuthError(
        'UNAUTHORIZED',
        `token subject (sub) is not a valid user id: ${sub.error.issues[0]?.message}`,
      );
    }
    const name = NameSchema.safeParse(claims.name ?? sub.data.slice(0, 32));
    if (!name.success) {
      throw new AuthError(
        'UNAUTHORIZED',
        `token name claim is not a valid display name: ${name.error.issues[0]?.message}`,
      );
    }
    const grants = claims.rooms ?? [];
    if (!Array.isArray(grants) || !grants.every((room) => typeof room === 'string')) {
      throw new AuthError('UNAUTHORIZED', 'token rooms claim must be a list of room names');
    }
    const expiresAt = (claims.exp as number) * 1000;
    if (expiresAt <= now) throw new AuthError('UNAUTHORIZED', 'token expired (exp is in the past)');
    return { user: { id: sub.data, name: name.data }, grants, expiresAt };
  }
}
