import type { ChatMessage } from '@chorus/protocol';

/** Most out-of-band messages kept while a join is in flight; a burst beyond this is re-read from history. */
const MAX_PENDING = 500;

export type AddOutcome =
  /** New: show it. */
  | 'added'
  /** Already shown (it came in the join's history and again live). */
  | 'duplicate'
  /** Held until the join in flight answers. */
  | 'deferred'
  /** From another epoch: the room's history was reset and the caller should rejoin to resynchronise. */
  | 'resync';

export interface SyncResult {
  /** True when the earlier messages were dropped: render `messages()` from scratch. */
  reset: boolean;
  /** Messages that are new since the last render, in seq order (all of them when `reset`). */
  added: ChatMessage[];
}

/**
 * The messages of one room, deduplicated by seq and kept in seq order. Live messages and join histories
 * overlap by design (the gateway subscribes before it reads history), so everything goes through here.
 *
 * While a join is in flight (`beginSync` … `sync`) live messages are held back, then merged with the
 * join's history, so nothing that arrives between the two is lost or shown twice.
 */
export class Timeline {
  #epoch: string | undefined;
  readonly #bySeq = new Map<number, ChatMessage>();
  #pending: ChatMessage[] = [];
  #syncing = false;

  get epoch(): string | undefined {
    return this.#epoch;
  }

  /** The highest seq shown, 0 when none. */
  get lastSeq(): number {
    let last = 0;
    for (const seq of this.#bySeq.keys()) if (seq > last) last = seq;
    return last;
  }

  /** Every message shown, oldest first. */
  messages(): ChatMessage[] {
    return [...this.#bySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  beginSync(): void {
    this.#syncing = true;
  }

  /**
   * Applies a join answer. `replace` drops what was shown (a fresh join, or a resume the server could not
   * continue); otherwise the history continues the current one.
   */
  sync(epoch: string, history: readonly ChatMessage[], { replace }: { replace: boolean }): SyncResult {
    const reset = replace || epoch !== this.#epoch;
    if (reset) this.#bySeq.clear();
    this.#epoch = epoch;
    this.#syncing = false;
    const held = this.#pending;
    this.#pending = [];
    const added: ChatMessage[] = [];
    for (const message of [...history, ...held]) {
      if (message.epoch === epoch && this.#put(message)) added.push(message);
    }
    added.sort((a, b) => a.seq - b.seq);
    return { reset, added: reset ? this.messages() : added };
  }

  /** Ends a join that failed: held messages of the current epoch are shown after all. */
  abortSync(): ChatMessage[] {
    this.#syncing = false;
    const held = this.#pending;
    this.#pending = [];
    return held.filter((m) => m.epoch === this.#epoch && this.#put(m)).sort((a, b) => a.seq - b.seq);
  }

  add(message: ChatMessage): AddOutcome {
    if (this.#syncing || message.epoch !== this.#epoch) {
      if (this.#pending.length < MAX_PENDING) this.#pending.push(message);
      return this.#syncing ? 'deferred' : 'resync';
    }
    return this.#put(message) ? 'added' : 'duplicate';
  }

  #put(message: ChatMessage): boolean {
    if (this.#bySeq.has(message.seq)) return false;
    this.#bySeq.set(message.seq, message);
    return true;
  }
}
