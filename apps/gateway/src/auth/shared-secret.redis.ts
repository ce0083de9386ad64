import type { RedisClient } from '../redis/connect';
import { withRedis } from '../redis/errors';
import { newSecret, type SharedSecretStore } from './shared-secret';

/**
 * The cluster's secret, kept in Redis under `<prefix>session-secret` with no expiry. One `SET NX GET` both
 * proposes a secret and reads the one that won, so concurrent first gateways agree. Read once per process; a
 * failed read (Redis away) is tried again by the next caller.
 */
export class RedisSharedSecret implements SharedSecretStore {
  readonly #redis: RedisClient;
  readonly #key: string;
  #secret: Promise<string> | undefined;

  constructor(redis: RedisClient, options: { prefix: string }) {
    this.#redis = redis;
    this.#key = `${options.prefix}session-secret`;
  }

  get(): Promise<string> {
    if (this.#secret) return this.#secret;
    const proposed = newSecret();
    const reading = withRedis(() => this.#redis.set(this.#key, proposed, 'NX', 'GET')).then(
      (existing) => existing ?? proposed,
    );
    this.#secret = reading;
    reading.catch(() => {
      if (this.#secret === reading) this.#secret = undefined;
    });
    return reading;
  }
}
