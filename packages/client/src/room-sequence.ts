import type { ChatMessage } from '@chorus/protocol';

/** What the client should do with an incoming message of a room. */
export type Arrival =
  | { kind: 'deliver'; messages: ChatMessage[] }
  | { kind: 'duplicate' }
  | { kind: 'gap'; from: number; to: number }
  | { kind: 'epoch-changed' };

/**
 * One room's position on the client: the epoch and the last seq handed to the application. Delivers each seq
 * once and in order; a message past a gap waits until the gap is filled.
 */
export class RoomSequence {
  epoch: string | undefined;
  last = 0;
  readonly #pending = new Map<number, ChatMessage>();

  /** Starts over at a known position (a join's history), dropping anything held. */
  reset(epoch: string, last: number): void {
    this.epoch = epoch;
    this.last = last;
    this.#pending.clear();
  }

  /** Takes a message from the server; returns what is ready to deliver, or what is missing. */
  accept(message: ChatMessage): Arrival {
    if (this.epoch !== undefined && message.epoch !== this.epoch) return { kind: 'epoch-changed' };
    // Unset, or the same: the line above has returned for any other epoch.
    this.epoch = message.epoch;
    if (message.seq <= this.last || this.#pending.has(message.seq)) return { kind: 'duplicate' };
    if (message.seq > this.last + 1) {
      this.#pending.set(message.seq, message);
      return { kind: 'gap', from: this.last + 1, to: this.#lowestPending() - 1 };
    }
    const ready = [message];
    this.last = message.seq;
    for (;;) {
      const next = this.#pending.get(this.last + 1);
      if (!next) break;
      this.#pending.delete(next.seq);
      ready.push(next);
      this.last = next.seq;
    }
    return { kind: 'deliver', messages: ready };
  }

  /** The first missing range, if messages wait behind one. */
  missing(): { from: number; to: number } | undefined {
    if (this.#pending.size === 0) return undefined;
    return { from: this.last + 1, to: this.#lowestPending() - 1 };
  }

  #lowestPending(): number {
    return Math.min(...this.#pending.keys());
  }
}
