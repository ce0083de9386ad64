import { TokenBucket } from './token-bucket';

/**
 * Counts failed attempts (wrong admin tokens) per client address and locks an address out once it used up its
 * budget: `burst` failures, then one more per `refillMs`. Bounded: the addresses seen longest ago are forgotten
 * past `maxAddresses`, so a flood of addresses cannot grow it without end.
 */
export class FailureLockout {
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #burst: number;
  readonly #perSecond: number;
  readonly #maxAddresses: number;

  constructor({ burst = 10, refillMs = 60_000, maxAddresses = 10_000 } = {}) {
    this.#burst = burst;
    this.#perSecond = 1000 / refillMs;
    this.#maxAddresses = maxAddresses;
  }

  /** How long `address` must wait before its next attempt is even looked at; 0 when it may try now. */
  lockedForMs(address: string): number {
    const bucket = this.#buckets.get(address);
    return bucket ? bucket.retryAfterMs() : 0;
  }

  /** Records a failure of `address`. */
  failed(address: string): void {
    let bucket = this.#buckets.get(address);
    if (!bucket) {
      if (this.#buckets.size >= this.#maxAddresses) {
        const oldest = this.#buckets.keys().next().value;
        if (oldest !== undefined) this.#buckets.delete(oldest);
      }
      bucket = new TokenBucket({ perSecond: this.#perSecond, burst: this.#burst });
      this.#buckets.set(address, bucket);
    }
    bucket.take();
  }
}
