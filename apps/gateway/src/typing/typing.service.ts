import { ChorusError, LIMITS, type PresenceEvent, type TypingEvent, toUser } from '@chorus/protocol';
import { roomAccess } from '../auth/room-access';
import type { RoomBus } from '../bus/room-bus';
import type { Connection } from '../connection';
import type { Logger } from '../logger';

/** Rooms with more members than this get no typing events (`TYPING_MAX_ROOM_SIZE`). */
export const DEFAULT_TYPING_MAX_ROOM_SIZE = 100;

export interface TypingOptions {
  /** Rooms bigger than this (members across the cluster) get no typing events. */
  maxRoomSize?: number | undefined;
  /** At most one `typing: true` per user and room per this window (default `LIMITS.typingThrottleMs`). */
  throttleMs?: number | undefined;
  /** The clock, for tests. */
  now?: () => number;
}

export interface TypingService {
  /** A connection says its user is typing in `room`, or stopped. Throws `NOT_IN_ROOM` or `FORBIDDEN`. */
  typing(conn: Connection, request: { room: string; typing: boolean }): void;
  /**
   * The room's member count as the join of connection `connId` read it (`memberCount`, which counts that
   * connection's user), for the size cap.
   */
  sized(room: string, members: number, connId: string): void;
  /** A presence event this gateway heard for a room it hosts (`except`: the joining connection): keeps the count current. */
  presence(event: PresenceEvent, except: string | undefined): void;
  /** This gateway has no member of `room` left: its count and typers are forgotten. */
  forget(room: string): void;
  close(): void;
}

interface TyperState {
  /** What was last passed on for this user in this room, and when. */
  sent: boolean;
  at: number;
  /** A `typing: true` held back by the throttle after a stop, sent when the window ends. */
  pending: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Typing indicators, held on the gateway that hears them and passed on through the room bus, like presence,
 * so only gateways with a member of the room do any work. Nothing is stored: the state per user and room is
 * this gateway's throttle, and a `typing: true` expires on the receivers after `LIMITS.typingTtlMs`.
 *
 * What is passed on: a stop at once when the user was last shown typing; a start or refresh at most once per
 * `throttleMs` (a refresh inside the window is dropped, since receivers still hold the last one; a start right
 * after a stop goes out when the window ends). Rooms bigger than `maxRoomSize` get nothing: the count comes
 * from the joins this gateway served and the presence events it hears, never from a Redis read per keystroke.
 */
export function createTypingService(
  bus: RoomBus,
  log: Logger,
  {
    maxRoomSize = DEFAULT_TYPING_MAX_ROOM_SIZE,
    throttleMs = LIMITS.typingThrottleMs,
    now = Date.now,
  }: TypingOptions = {},
): TypingService {
  /** Members per room this gateway hosts. */
  const sizes = new Map<string, number>();
  /** Per room, user id → what was last passed on. */
  const typers = new PerRoom<TyperState>();
  /**
   * Per room, the joins whose count was read here (connection id → when): that join's own `joined` event (which
   * names the connection as `except`) is already in the count. Forgotten after a TTL (a second tab announces
   * nothing).
   */
  const counted = new PerRoom<number>();

  const publish = (event: TypingEvent, except: string | undefined) => {
    bus.publishTyping(event, except).catch((error: unknown) => {
      log.warn({ room: event.room, err: { message: (error as Error).message } }, 'typing not published');
    });
  };

  // Entries older than the TTL tell nothing any more (receivers expired them): dropped, so the map holds only
  // the users typing now.
  const sweep = setInterval(() => {
    const stale = now() - LIMITS.typingTtlMs;
    typers.prune((state) => state.at < stale && !state.pending);
    counted.prune((at) => at < stale);
  }, LIMITS.typingTtlMs);
  sweep.unref();

  return {
    typing(conn, { room, typing }) {
      if (!conn.rooms.has(room)) {
        roomAccess.check(conn, room);
        throw new ChorusError('NOT_IN_ROOM', `join room ${room} first`);
      }
      if ((sizes.get(room) ?? 0) > maxRoomSize) return;
      const state = typers.get(room, conn.user.id);
      const at = now();
      const event: TypingEvent = { room, user: toUser(conn.user), typing };
      if (!typing) {
        if (state?.pending) {
          clearTimeout(state.pending);
          state.pending = undefined;
        }
        // Already shown as stopped: nothing new. Unknown (typed through another gateway): said once.
        if (state && !state.sent) return;
        typers.set(room, conn.user.id, { sent: false, at, pending: undefined });
        publish(event, conn.id);
        return;
      }
      if (state && at - state.at < throttleMs) {
        if (state.sent || state.pending) return;
        state.pending = setTimeout(
          () => {
            state.pending = undefined;
            if (typers.get(room, conn.user.id) !== state || !conn.rooms.has(room)) return;
            state.sent = true;
            state.at = now();
            publish(event, conn.id);
          },
          throttleMs - (at - state.at),
        );
        state.pending.unref?.();
        return;
      }
      typers.set(room, conn.user.id, { sent: true, at, pending: undefined });
      publish(event, conn.id);
    },

    sized(room, members, connId) {
      sizes.set(room, members);
      counted.set(room, connId, now());
    },

    presence(event, except) {
      const count = sizes.get(event.room);
      if (count === undefined) return;
      if (event.state === 'joined' && except !== undefined && counted.delete(event.room, except)) return;
      sizes.set(event.room, Math.max(0, count + (event.state === 'joined' ? 1 : -1)));
    },

    forget(room) {
      sizes.delete(room);
      for (const state of typers.take(room)) clearTimeout(state.pending);
      counted.take(room);
    },

    close() {
      clearInterval(sweep);
      for (const state of typers.values()) clearTimeout(state.pending);
      typers.clear();
      sizes.clear();
      counted.clear();
    },
  };
}

/**
 * Entries kept per room, so that forgetting a room costs its own entries only: a gateway that loses thousands of
 * rooms at once (a mass disconnect) must not scan every other room's entries for each.
 */
class PerRoom<V> {
  readonly #rooms = new Map<string, Map<string, V>>();

  get(room: string, key: string): V | undefined {
    return this.#rooms.get(room)?.get(key);
  }

  set(room: string, key: string, value: V): void {
    let entries = this.#rooms.get(room);
    if (!entries) {
      entries = new Map();
      this.#rooms.set(room, entries);
    }
    entries.set(key, value);
  }

  /** Whether there was an entry to delete. */
  delete(room: string, key: string): boolean {
    const entries = this.#rooms.get(room);
    if (!entries?.delete(key)) return false;
    if (entries.size === 0) this.#rooms.delete(room);
    return true;
  }

  /** Removes the room's entries and returns them. */
  take(room: string): Iterable<V> {
    const entries = this.#rooms.get(room);
    this.#rooms.delete(room);
    return entries?.values() ?? [];
  }

  /** Removes every entry that `stale` picks. */
  prune(stale: (value: V) => boolean): void {
    for (const [room, entries] of this.#rooms) {
      for (const [key, value] of entries) if (stale(value)) entries.delete(key);
      if (entries.size === 0) this.#rooms.delete(room);
    }
  }

  *values(): Iterable<V> {
    for (const entries of this.#rooms.values()) yield* entries.values();
  }

  clear(): void {
    this.#rooms.clear();
  }
}
