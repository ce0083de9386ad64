import { randomBytes } from 'node:crypto';

/**
 * A secret every gateway of the cluster shares, for signing guest tokens when `SESSION_SECRET` is not set. The
 * first gateway to ask makes it up; every later one, and every restart, reads the same one.
 */
export interface SharedSecretStore {
  /** The secret (base64url, 32 random bytes); rejects while the store cannot be reached. */
  get(): Promise<string>;
}

/** A fresh random secret. */
export const newSecret = (): string => randomBytes(32).toString('base64url');
