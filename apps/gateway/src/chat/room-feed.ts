import type { ChatMessage } from '@chorus/protocol';
import type { RoomBus } from '../bus/room-bus';
import type { Logger } from '../logger';
import type { MessageStore } from './message-store';

/** Why a room's local members must resume (rejoin with `since`) instead of being fed live. */
export type ResetReason = 'epoch' | 'gap';

export interface RoomFeedOptions {
  store: MessageStore;
  /** Where the feed subscribes to a room while it has local members. */
  bus: RoomBus;
  /** Hands a message to the room's live local members (sockets and plain clients). */
  deliver(message: ChatMessage): void;
  /** Local members of `room` missed messages that can no longer be replayed live: make them resume. */
  reset(room: string, reason: ResetReason): void;
  logger: Logger;
  /** Retry delay of a catch-up that failed (Redis unreachable). */
  retryMs?: number;
}

interface RoomState {
  /** Local connections in the room (or joining it). */
  refs: number;
  /** The room's bus subscription; resolves once it is live. */
  subscribed: Promise<void>;
  /** Epoch and last seq delivered to local members; undefined until the first message or join read. */
  epoch: string | undefined;
  last: number;
  /** Messages that arrived ahead of a gap, by seq. */
  pending: Map<number, ChatMessage>;
  catchingUp: boolean;
  retry: NodeJS.Timeout | undefined;
  /** Joins in flight that buffer what is delivered until their history is read. */
  watchers: Set<(message: ChatMessage) => void>;
  /** Called whenever the position (epoch, last) moved. */
  moved: Set<() => void>;
}

const PAGE = 500;

/**
 * The gateway's per-room sequencer between the cluster feed and local members. It delivers each room's
 * messages exactly once and in seq order: duplicates are dropped, a message that arrives after a gap waits
 * while the gap is read back from the log, and after the feed was interrupted every room catches up from the
 * log. So clients need not ask for what their gateway missed. When the log cannot fill a gap (trimmed) or the
 * room's epoch changed (history lost), the room's local members are made to resume.
 */
export class RoomFeed {
  readonly #rooms = new Map<string, RoomState>();
  readonly #options: RoomFeedOptions;
  readonly #log: Logger;
  readonly #retryMs: number;
  #closed = false;

  constructor(options: RoomFeedOptions) {
    this.#options = options;
    this.#log = options.logger.child({ component: 'room-feed' });
    this.#retryMs = options.retryMs ?? 1_000;
  }

  /**
   * A local connection joins `room`: start sequencing it. The first one subscribes the gateway to the room's
   * bus channel; the returned promise resolves once that subscription is live (so a history read after it
   * misses nothing), and rejects when it could not be made (then `untrack`).
   */
  track(room: string): Promise<void> {
    const state = this.#rooms.get(room);
    if (state) {
      state.refs += 1;
      return state.subscribed;
    }
    const subscribed = this.#options.bus.subscribe(room);
    // Whoever awaits it sees a failure; this keeps an unawaited one from being reported as unhandled.
    subscribed.catch(() => {});
    this.#rooms.set(room, {
      refs: 1,
      subscribed,
      epoch: undefined,
      last: 0,
      pending: new Map(),
      catchingUp: false,
      retry: undefined,
      watchers: new Set(),
      moved: new Set(),
    });
    return subscribed;
  }

  /** A local connection left `room`; the last one out stops sequencing it. */
  untrack(room: string): void {
    const state = this.#rooms.get(room);
    if (!state) return;
    state.refs -= 1;
    if (state.refs <= 0) {
      clearTimeout(state.retry);
      this.#rooms.delete(room);
      this.#options.bus.unsubscribe(room);
    }
  }

  /** Calls `fn` with every message delivered for `room` until the returned function is called. */
  watch(room: string, fn: (message: ChatMessage) => void): () => void {
    const state = this.#rooms.get(room);
    if (!state) throw new Error(`room ${room} is not tracked`);
    state.watchers.add(fn);
    return () => state.watchers.delete(fn);
  }

  /**
   * Resolves true once the room's local members have been handed every message up to `seq` of `epoch` (at
   * once when they have), false after `timeoutMs`. A join whose
   * history read got ahead of the feed waits for this before the connection goes live, so the feed does
   * not hand it again what its ack already carries.
   */
  reached(room: string, epoch: string, seq: number, timeoutMs: number): Promise<boolean> {
    const state = this.#rooms.get(room);
    if (!state) return Promise.resolve(false);
    if (state.epoch === epoch && state.last >= seq) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        state.moved.delete(check);
        resolve(ok);
      };
      const check = () => {
        if (state.epoch === epoch && state.last >= seq) done(true);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      state.moved.add(check);
      // The join read another epoch than the feed holds (history was lost): the log tells which is current.
      if (state.epoch !== epoch) void this.#catchUp(room);
    });
  }

  /** A join read the room's log up to `seq` in `epoch`; the sequencer starts there if it knew nothing yet. */
  seen(room: string, epoch: string, seq: number): void {
    const state = this.#rooms.get(room);
    if (!state || state.epoch !== undefined) return;
    state.epoch = epoch;
    state.last = seq;
  }

  message(message: ChatMessage): void {
    const state = this.#rooms.get(message.room);
    if (!state) return;
    if (state.epoch === undefined) {
      state.epoch = message.epoch;
      state.last = message.seq - 1;
    } else if (message.epoch !== state.epoch) {
      this.#newEpoch(message.room, state, message.epoch, message.seq - 1);
    }
    if (message.seq <= state.last) return;
    if (message.seq === state.last + 1 && !state.catchingUp) {
      this.#emit(state, message);
      this.#drain(state);
      return;
    }
    state.pending.set(message.seq, message);
    void this.#catchUp(message.room);
  }

  /** Rooms sequenced here, and the local memberships they hold (a connection counts once per room). */
  load(): { rooms: number; members: number } {
    let members = 0;
    for (const state of this.#rooms.values()) members += state.refs;
    return { rooms: this.#rooms.size, members };
  }

  resync(): void {
    this.#log.info({ rooms: this.#rooms.size }, 'feed resumed, catching up rooms from the log');
    for (const [room, state] of this.#rooms) if (state.epoch !== undefined) void this.#catchUp(room);
  }

  close(): void {
    this.#closed = true;
    for (const state of this.#rooms.values()) clearTimeout(state.retry);
  }

  #emit(state: RoomState, message: ChatMessage): void {
    state.last = message.seq;
    this.#options.deliver(message);
    for (const watcher of state.watchers) watcher(message);
    for (const moved of state.moved) moved();
  }

  #drain(state: RoomState): void {
    for (;;) {
      const next = state.pending.get(state.last + 1);
      if (!next) break;
      state.pending.delete(next.seq);
      this.#emit(state, next);
    }
    for (const seq of state.pending.keys()) if (seq <= state.last) state.pending.delete(seq);
  }

  #newEpoch(room: string, state: RoomState, epoch: string, last: number): void {
    this.#log.warn(
      { room, from: state.epoch, to: epoch },
      'room epoch changed (history lost); local members resume',
    );
    state.epoch = epoch;
    state.last = last;
    state.pending.clear();
    this.#options.reset(room, 'epoch');
    for (const moved of state.moved) moved();
  }

  #retryLater(room: string, state: RoomState): void {
    clearTimeout(state.retry);
    state.retry = setTimeout(() => {
      state.retry = undefined;
      void this.#catchUp(room);
    }, this.#retryMs);
    state.retry.unref();
  }

  /** Reads the log after the last delivered seq and delivers it, then what waited behind the gap. */
  async #catchUp(room: string): Promise<void> {
    const state = this.#rooms.get(room);
    if (!state || state.catchingUp || this.#closed) return;
    state.catchingUp = true;
    const startedAt = state.last;
    try {
      for (;;) {
        const page = await this.#options.store.after(room, state.last, PAGE);
        if (this.#rooms.get(room) !== state) return;
        if (page.epoch !== state.epoch) {
          // Read from where the old epoch ended, the page says nothing about the new one's end: ask for it.
          const latest = await this.#options.store.latest(room, 1);
          if (this.#rooms.get(room) !== state) return;
          this.#newEpoch(room, state, latest.epoch, latest.messages.at(-1)?.seq ?? 0);
          return;
        }
        if (!page.complete) {
          this.#log.warn({ room, last: state.last }, 'gap no longer in the log; local members resume');
          state.last = page.messages.at(-1)?.seq ?? state.last;
          state.pending.clear();
          this.#options.reset(room, 'gap');
          for (const moved of state.moved) moved();
          return;
        }
        for (const message of page.messages) {
          if (message.seq <= state.last) continue;
          if (message.seq !== state.last + 1) {
            // The log holds later messages but not this seq: it was never written (data lost with a failed-over
            // or restarted Redis) and no read will ever fill it. Skip it and make the members resume.
            this.#log.warn(
              { room, missing: state.last + 1, next: message.seq },
              'hole in the log; local members resume',
            );
            // Stryker disable next-line ArithmeticOperator: #emit sets last to message.seq just below; nothing reads it in between
            state.last = message.seq - 1;
            this.#options.reset(room, 'gap');
          }
          this.#emit(state, message);
        }
        this.#drain(state);
        if (page.messages.length < PAGE) {
          // Messages still wait behind a gap this read did not narrow: try again later, never in a tight loop.
          if (state.pending.size > 0 && state.last === startedAt) this.#retryLater(room, state);
          return;
        }
      }
    } catch (error) {
      this.#log.warn({ room, err: { message: (error as Error).message } }, 'catch-up failed; will retry');
      this.#retryLater(room, state);
    } finally {
      state.catchingUp = false;
      // Messages that arrived during the read may have opened another gap.
      if (state.pending.size > 0 && this.#rooms.get(room) === state && !state.retry) void this.#catchUp(room);
    }
  }
}
