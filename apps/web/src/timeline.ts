import type { ChatMessage } from '@chorus/protocol';

export interface TimelineChange {
  /** True when the earlier messages were dropped: render `added` from scratch. */
  reset: boolean;
  /** Messages that are new since the last render, in seq order (all of them when `reset`). */
  added: ChatMessage[];
}

/**
 * The messages of the room on screen, by seq, oldest first. The client SDK hands each message over once, but
 * the page also shows its own sends from their acks (the live copy follows) and reads the first join's
 * history after the messages that came in behind it; keying by seq shows each message once, in place.
 */
export class Timeline {
  readonly #bySeq = new Map<number, ChatMessage>();

  /** Every message shown, oldest first. */
  messages(): ChatMessage[] {
    return [...this.#bySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  /** The lowest seq shown, if any. */
  firstSeq(): number | undefined {
    let first: number | undefined;
    for (const seq of this.#bySeq.keys()) if (first === undefined || seq < first) first = seq;
    return first;
  }

  /** The highest seq shown, or 0. */
  lastSeq(): number {
    let last = 0;
    for (const seq of this.#bySeq.keys()) if (seq > last) last = seq;
    return last;
  }

  /** Adds the messages not shown yet and reports them. */
  add(messages: readonly ChatMessage[]): TimelineChange {
    const added = messages.filter((message) => {
      if (this.#bySeq.has(message.seq)) return false;
      this.#bySeq.set(message.seq, message);
      return true;
    });
    return { reset: false, added: added.sort((a, b) => a.seq - b.seq) };
  }

  /** Shows `messages` instead of everything shown so far (the room's history was reset). */
  replace(messages: readonly ChatMessage[]): TimelineChange {
    this.#bySeq.clear();
    this.add(messages);
    return { reset: true, added: this.messages() };
  }
}
