/**
 * What a target has started so far, stopped in reverse order: gateways before the Redis they use. A target
 * that fails half-way through starting stops what it had started, and nothing outlives the bench.
 */
export class Teardown {
  readonly #steps: (() => Promise<void>)[] = [];
  #run: Promise<void> | undefined;

  add(step: () => Promise<void>): void {
    this.#steps.push(step);
  }

  /** Starts every one of `starts` in parallel; each that succeeded is registered even when another failed. */
  async all<T extends { stop(): Promise<void> }>(starts: Promise<T>[]): Promise<T[]> {
    const results = await Promise.allSettled(starts);
    const started: T[] = [];
    for (const r of results) if (r.status === 'fulfilled') started.push(r.value);
    this.add(async () => {
      await Promise.allSettled(started.map((s) => s.stop()));
    });
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    return started;
  }

  /** Runs every step once; a second call (an abort racing a normal stop) waits for the same run to finish. */
  run(): Promise<void> {
    this.#run ??= (async () => {
      for (const step of this.#steps.splice(0).reverse()) await step().catch(() => undefined);
    })();
    return this.#run;
  }
}

/** A short random tag for key prefixes and room names (letters and digits only). */
export function randomTag(): string {
  return Math.random().toString(36).slice(2, 8);
}
