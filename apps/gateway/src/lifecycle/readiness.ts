import type { Logger } from '../logger';

export interface ReadinessOptions {
  /** Resolves when the backing services answer; rejects with the reason otherwise. */
  check: () => Promise<void>;
  logger: Logger;
  /** How often the check runs (default 1000 ms). */
  intervalMs?: number;
  /**
   * How long the backing services may be in trouble before this gateway reports not ready (default 10 s).
   * A short stall of the shared store must not take every gateway out of the balancer at once: it shows in
   * sends (`UNAVAILABLE`) and metrics. Only trouble that lasts, e.g. this gateway's own link being cut, does.
   */
  graceMs?: number;
}

export interface ReadinessState {
  ready: boolean;
  /** Why not, or what is wrong but still within the grace period. */
  reason?: string;
}

/**
 * Whether this gateway should get traffic, judged in the background so `/readyz` answers at once, even on a
 * busy event loop (a probe that times out would take the gateway out for being slow, not for being unfit).
 */
export class Readiness {
  readonly #options: ReadinessOptions;
  readonly #graceMs: number;
  #timer: NodeJS.Timeout | undefined;
  #checking = false;
  #checkStarted = 0;
  #troubleSince: number | undefined;
  #reason: string | undefined;

  constructor(options: ReadinessOptions) {
    this.#options = options;
    this.#graceMs = options.graceMs ?? 10_000;
  }

  start(): void {
    this.#run();
    this.#timer = setInterval(() => this.#run(), this.#options.intervalMs ?? 1_000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  state(): ReadinessState {
    const now = Date.now();
    // A check that hangs is trouble too, counted from when it started.
    if (this.#checking && now - this.#checkStarted > this.#graceMs) {
      return { ready: false, reason: 'backing services do not answer' };
    }
    if (this.#troubleSince === undefined) return { ready: true };
    const reason = this.#reason ?? 'backing services unavailable';
    return { ready: now - this.#troubleSince < this.#graceMs, reason };
  }

  #run(): void {
    if (this.#checking) return;
    this.#checking = true;
    this.#checkStarted = Date.now();
    this.#options.check().then(
      () => {
        if (this.#troubleSince !== undefined) this.#options.logger.info('backing services are back');
        this.#troubleSince = undefined;
        this.#reason = undefined;
        this.#checking = false;
      },
      (error: unknown) => {
        const reason = (error as Error).message;
        if (this.#troubleSince === undefined) {
          this.#troubleSince = this.#checkStarted;
          this.#options.logger.warn({ reason, graceMs: this.#graceMs }, 'backing services in trouble');
        }
        this.#reason = reason;
        this.#checking = false;
      },
    );
  }
}
