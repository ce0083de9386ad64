import { ChorusError } from '@chorus/protocol';
import type { Logger } from '../logger';
import { type AddressLimitStore, CONNECTION_REFRESH_MS } from './address-limits';

/** A budget per client address: at most `burst` in any window of `burst / perSecond` seconds. */
export interface AddressBudget {
  perSecond: number;
  burst: number;
}

export interface AddressLimits {
  /** Connections one address may have open across the cluster (default 1000). */
  maxConnections: number;
  /** Sends per address across the cluster, and per user (default 100/s, bursts of 200). */
  sends: AddressBudget;
  /** Rooms an address may bring into being (join while empty and without history) (default 2/s, bursts of 120). */
  newRooms: AddressBudget;
}

export const DEFAULT_ADDRESS_LIMITS: Readonly<AddressLimits> = Object.freeze({
  maxConnections: 1_000,
  sends: Object.freeze({ perSecond: 100, burst: 200 }),
  newRooms: Object.freeze({ perSecond: 2, burst: 120 }),
});

/** How often a gateway adds its usage to the cluster's and learns the cluster's totals. */
const FLUSH_MS = 250;

/** `userSends` is the send budget again, keyed by user id instead of address (one user, many addresses). */
type Kind = 'sends' | 'newRooms' | 'userSends';

const REFUSALS: Record<Kind, string> = {
  sends: 'too many messages from your address, slow down',
  userSends: 'too many messages from your account, slow down',
  newRooms: 'too many new rooms from your address',
};

interface WindowState {
  window: number;
  /** Used here since the last flush. */
  pending: Map<string, number>;
  /** The cluster's total in this window at the last flush (ours included). */
  known: Map<string, number>;
}

/**
 * One gateway's side of the per-address limits. Connections are counted in the store as they open and close.
 * Budgets (sends, new rooms) are decided here without waiting for Redis: this gateway's use since the last
 * flush plus the cluster's total at that flush. Every 250 ms the use is added to the store and the totals read
 * back, so the limit holds across the cluster within a fraction of a second, at a cost per active address, not
 * per message. The flush is timed from the first use after the last one, so an idle gateway does not wake for it.
 */
export class AddressLimiter {
  readonly #store: AddressLimitStore;
  readonly #node: string;
  readonly #limits: AddressLimits;
  readonly #log: Logger;
  readonly #connections = new Map<string, number>();
  readonly #windows: Record<Kind, WindowState> = {
    sends: { window: -1, pending: new Map(), known: new Map() },
    newRooms: { window: -1, pending: new Map(), known: new Map() },
    userSends: { window: -1, pending: new Map(), known: new Map() },
  };
  readonly #refreshTimer: NodeJS.Timeout;
  /** The next flush, set by the first use after the last one: a gateway nobody sends through never wakes for it. */
  #flushTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(store: AddressLimitStore, node: string, limits: AddressLimits, logger: Logger) {
    this.#store = store;
    this.#node = node;
    this.#limits = limits;
    this.#log = logger.child({ component: 'address-limits' });
    const refresh = setInterval(() => void this.#refresh(), CONNECTION_REFRESH_MS);
    refresh.unref();
    this.#refreshTimer = refresh;
  }

  /** Counts a new connection of `address`; resolves false when the address has too many open already. */
  async open(address: string): Promise<boolean> {
    let allowed = true;
    try {
      allowed = await this.#store.open(address, this.#node, this.#limits.maxConnections);
    } catch (error) {
      // Redis away: the limit is not worth refusing everyone for; this gateway's own count still applies.
      this.#log.debug({ err: { message: (error as Error).message } }, 'connection limit unchecked');
      allowed = (this.#connections.get(address) ?? 0) < this.#limits.maxConnections;
    }
    if (allowed) this.#connections.set(address, (this.#connections.get(address) ?? 0) + 1);
    return allowed;
  }

  /** Uncounts a connection of `address` that `open` admitted. */
  close(address: string): void {
    const open = (this.#connections.get(address) ?? 0) - 1;
    if (open > 0) this.#connections.set(address, open);
    else this.#connections.delete(address);
    this.#store.close(address, this.#node).catch(() => {});
  }

  /**
   * Takes one unit of `kind` for `address` (a user id for `userSends`), or throws `RATE_LIMITED` with the wait
   * until the next window.
   */
  take(kind: Kind, address: string): void {
    const budget = this.#budget(kind);
    const windowMs = (budget.burst / budget.perSecond) * 1000;
    const now = Date.now();
    const state = this.#current(kind, Math.floor(now / windowMs));
    const used = (state.known.get(address) ?? 0) + (state.pending.get(address) ?? 0);
    if (used >= budget.burst) {
      const retryAfterMs = (state.window + 1) * windowMs - now;
      throw ChorusError.rateLimited(REFUSALS[kind], retryAfterMs);
    }
    state.pending.set(address, (state.pending.get(address) ?? 0) + 1);
    if (this.#flushTimer === undefined && !this.#stopped) {
      this.#flushTimer = setTimeout(() => {
        this.#flushTimer = undefined;
        void this.#flush();
      }, FLUSH_MS);
      this.#flushTimer.unref();
    }
  }

  /** Stops the background flushes. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#refreshTimer);
    clearTimeout(this.#flushTimer);
  }

  #budget(kind: Kind): AddressBudget {
    return this.#limits[kind === 'userSends' ? 'sends' : kind];
  }

  #current(kind: Kind, window: number): WindowState {
    const state = this.#windows[kind];
    if (state.window !== window) {
      state.window = window;
      state.pending = new Map();
      state.known = new Map();
    }
    return state;
  }

  async #flush(): Promise<void> {
    for (const kind of ['sends', 'newRooms', 'userSends'] as const) {
      const state = this.#windows[kind];
      if (state.pending.size === 0) continue;
      const { window, pending } = state;
      state.pending = new Map();
      const budget = this.#budget(kind);
      try {
        const totals = await this.#store.add(kind, window, (budget.burst / budget.perSecond) * 1000, pending);
        if (state.window === window) for (const [address, total] of totals) state.known.set(address, total);
      } catch {
        // Redis away: keep counting locally in this window.
        if (state.window === window)
          for (const [address, n] of pending) state.known.set(address, (state.known.get(address) ?? 0) + n);
      }
    }
  }

  async #refresh(): Promise<void> {
    if (this.#connections.size === 0) return;
    await this.#store.refresh(this.#node, this.#connections).catch(() => {});
  }
}
