import { ChorusError } from '@chorus/protocol';
import { TokenBucket } from './token-bucket';

/** What one connection may ask of its gateway, whatever the request (sends have their own budget too). */
export interface RequestLimits {
  /** Requests per second, and how many may come at once. */
  perSecond: number;
  burst: number;
  /** Requests not answered yet; one more is refused until an answer goes out. */
  maxInflight: number;
}

export const DEFAULT_REQUEST_LIMITS: Readonly<RequestLimits> = Object.freeze({
  perSecond: 20,
  // A page that reconnects rejoins all its rooms (at most 100) at once, and must not be refused for it.
  burst: 150,
  maxInflight: 128,
});

/** Refusals a connection may collect (refilled at a tenth of that per second) before it is disconnected. */
const ABUSE_BURST = 100;

/**
 * One connection's request budget: a rate (token bucket), a cap on requests in flight, and a second bucket
 * that counts refusals, so a client that keeps hammering after being told to wait is cut off.
 */
export class RequestBudget {
  readonly #limits: RequestLimits;
  // Made at the first request: an idle connection does not carry it.
  #rate: TokenBucket | undefined;
  // Made at the first refusal: a connection that was never refused does not carry it.
  #refusals: TokenBucket | undefined;
  readonly #maxInflight: number;
  #inflight = 0;

  constructor(limits: RequestLimits) {
    this.#limits = limits;
    this.#maxInflight = limits.maxInflight;
  }

  /**
   * Admits one request, returning the function to call once it is answered, or throws `RATE_LIMITED`.
   * `abusive` is set on the error once the connection has been refused too often: drop it.
   */
  admit(): () => void {
    if (this.#inflight >= this.#maxInflight) {
      throw this.#refuse(`at most ${this.#maxInflight} requests may wait for an answer`, 50);
    }
    this.#rate ??= new TokenBucket(this.#limits);
    if (!this.#rate.take()) throw this.#refuse('too many requests, slow down', this.#rate.retryAfterMs());
    this.#inflight += 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#inflight -= 1;
    };
  }

  get inflight(): number {
    return this.#inflight;
  }

  #refuse(message: string, retryAfterMs: number): RefusedRequest {
    this.#refusals ??= new TokenBucket({ perSecond: ABUSE_BURST / 10, burst: ABUSE_BURST });
    return Object.assign(ChorusError.rateLimited(message, retryAfterMs), { abusive: !this.#refusals.take() });
  }
}

export type RefusedRequest = ChorusError & { abusive: boolean };
