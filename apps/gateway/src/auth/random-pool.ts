import { randomFillSync } from 'node:crypto';

/**
 * Cryptographically random bytes handed out from a pool refilled 4 KiB at a time, as Node does for
 * `randomUUID`: `randomBytes(n)` for a few bytes is a system call each, and every guest connection needs two.
 */
export class RandomPool {
  readonly #pool: Buffer;
  #used: number;

  constructor(size = 4096) {
    this.#pool = Buffer.alloc(size);
    this.#used = size;
  }

  /** `n` fresh random bytes (at most the pool's size), copied out: nothing handed out is handed out again. */
  bytes(n: number): Buffer {
    if (n > this.#pool.length) throw new RangeError(`at most ${this.#pool.length} bytes at a time`);
    if (this.#used + n > this.#pool.length) {
      randomFillSync(this.#pool);
      this.#used = 0;
    }
    const out = Buffer.from(this.#pool.subarray(this.#used, this.#used + n));
    this.#used += n;
    return out;
  }
}
