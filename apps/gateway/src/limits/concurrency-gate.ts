import { ChorusError } from '@chorus/protocol';

/**
 * At most `max` tasks at once; the others wait their turn, first come first served, up to `maxWaiting` (past
 * that they are refused `RATE_LIMITED`). For work whose cost lands on this gateway when its answers come back
 * (a join reads the room's members and history): admitting all of a storm at once queues seconds of work behind
 * Redis replies that have already arrived, until their timeouts fire. Admitted a batch at a time, each task
 * finishes in bounded time and the rest wait: the storm degrades by latency, not by failures.
 */
export class ConcurrencyGate {
  readonly #max: number;
  readonly #maxWaiting: number;
  readonly #waiting: (() => void)[] = [];
  /** Index of the next waiter to admit (the front is trimmed in halves, not shifted per admission). */
  #head = 0;
  #running = 0;

  constructor(max: number, maxWaiting = 100 * max) {
    this.#max = max;
    this.#maxWaiting = maxWaiting;
  }

  /** Runs `task` once a place is free. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#max) {
      if (this.waiting >= this.#maxWaiting) {
        throw ChorusError.rateLimited('the server is busy, retry shortly', 1_000);
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running += 1;
    }
    try {
      return await task();
    } finally {
      this.#release();
    }
  }

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#waiting.length - this.#head;
  }

  #release(): void {
    const next = this.#waiting[this.#head];
    if (next === undefined) {
      this.#running -= 1;
      return;
    }
    // The place goes straight to the next waiter: `running` stays as it is.
    this.#head += 1;
    // Admitted waiters are dropped from the front once they are half the queue, so a queue that never empties
    // (joins arriving as fast as they are served) does not keep every waiter it ever had.
    if (this.#head * 2 >= this.#waiting.length) {
      this.#waiting.splice(0, this.#head);
      this.#head = 0;
    }
    next();
  }
}
