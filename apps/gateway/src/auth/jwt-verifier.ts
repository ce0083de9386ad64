import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';

/** How signed-in users' tokens are checked (`AUTH_JWT_*` settings). */
export interface JwtOptions {
  /** `AUTH_JWT_SECRET`: the HS256 key, shared with whoever mints the tokens. */
  secret?: string | undefined;
  /** `AUTH_JWKS_URL`: where the RS256/ES256 public keys are published (JSON Web Key Set). */
  jwksUrl?: string | undefined;
  /** `AUTH_JWT_ISSUER`: the `iss` every token must carry. */
  issuer?: string | undefined;
  /** `AUTH_JWT_AUDIENCE`: an `aud` every token must carry. */
  audience?: string | undefined;
  /** Least time between two fetches of the key set (default 30 s); an unknown `kid` fetches again after it. */
  jwksCooldownMs?: number | undefined;
}

/** A token refused, with what failed in words a developer can act on. */
export class TokenError extends Error {
  override name = 'TokenError';
}

const HMAC_ALGORITHMS = ['HS256'];
const PUBLIC_KEY_ALGORITHMS = ['RS256', 'ES256'];
/** Clock difference tolerated between the token's minter and the gateways. */
const CLOCK_TOLERANCE_S = 5;

/**
 * Verifies JWTs with jose: HS256 against the shared secret, RS256/ES256 against the key set (cached, fetched
 * again when a token names a key it does not know). Which key applies follows from the token's `alg`, and each
 * kind of key accepts only its own algorithms, so an HS256 token signed with a public key (algorithm confusion)
 * and unsigned tokens (`alg: none`) are refused. `exp` and `nbf` are always checked; `iss` and `aud` when set.
 */
export class JwtVerifier {
  readonly #secret: Uint8Array | undefined;
  readonly #jwks: JWTVerifyGetKey | undefined;
  readonly #options: JwtOptions;

  constructor(options: JwtOptions) {
    this.#options = options;
    this.#secret = options.secret ? new TextEncoder().encode(options.secret) : undefined;
    this.#jwks = options.jwksUrl
      ? createRemoteJWKSet(new URL(options.jwksUrl), {
          cooldownDuration: options.jwksCooldownMs ?? 30_000,
          timeoutDuration: 5_000,
        })
      : undefined;
  }

  /** Whether signed-in users can connect at all (a secret or a key set is configured). */
  get enabled(): boolean {
    return this.#secret !== undefined || this.#jwks !== undefined;
  }

  /** The token's claims once every check passed; throws a `TokenError` saying which one failed. */
  async verify(token: string): Promise<JWTPayload> {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new TokenError('token is malformed (its header is not base64url JSON)');
    }
    const checks = {
      clockTolerance: CLOCK_TOLERANCE_S,
      requiredClaims: ['exp'],
      ...(this.#options.issuer ? { issuer: this.#options.issuer } : {}),
      ...(this.#options.audience ? { audience: this.#options.audience } : {}),
    };
    try {
      if (alg !== undefined && HMAC_ALGORITHMS.includes(alg) && this.#secret) {
        return (await jwtVerify(token, this.#secret, { ...checks, algorithms: HMAC_ALGORITHMS })).payload;
      }
      if (alg !== undefined && PUBLIC_KEY_ALGORITHMS.includes(alg) && this.#jwks) {
        return (await jwtVerify(token, this.#jwks, { ...checks, algorithms: PUBLIC_KEY_ALGORITHMS })).payload;
      }
    } catch (error) {
      throw describe(error);
    }
    const allowed = [...(this.#secret ? HMAC_ALGORITHMS : []), ...(this.#jwks ? PUBLIC_KEY_ALGORITHMS : [])];
    throw new TokenError(
      `token algorithm ${JSON.stringify(alg ?? null)} is not accepted (accepted: ${allowed.join(', ') || 'none'})`,
    );
  }
}

/** jose's error, told as which check failed. */
function describe(error: unknown): TokenError {
  if (error instanceof errors.JWTExpired) return new TokenError('token expired (exp is in the past)');
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'nbf':
        return new TokenError('token not yet valid (nbf is in the future)');
      case 'iss':
        return new TokenError('token issuer (iss) is not the expected one');
      case 'aud':
        return new TokenError('token audience (aud) is not the expected one');
      case 'exp':
        return new TokenError('token has no valid expiry (exp)');
      default:
        return new TokenError(`token claim ${error.claim} is invalid (${error.reason})`);
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return new TokenError('token signature is not valid');
  if (error instanceof errors.JOSEAlgNotAllowed) return new TokenError('token algorithm is not accepted');
  if (error instanceof errors.JWKSNoMatchingKey)
    return new TokenError('token key (kid) is not in the key set');
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid)
    return new TokenError('the key set (AUTH_JWKS_URL) could not be read; try again');
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid)
    return new TokenError('token is malformed');
  if (error instanceof errors.JOSEError) return new TokenError(`token refused (${error.code})`);
  // A fetch of the key set that failed outright (refused, DNS…).
  return new TokenError('the key set (AUTH_JWKS_URL) could not be read; try again');
}
