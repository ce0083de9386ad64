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
  /** `room\nuser id` → what was last passed on. */
  const typers = new Map<string, TyperState>();
  /**
   * Joins whose count was read here (`room\nconnection id`), with when: that join's own `joined` event (which names
   * the connection as `except`) is already in the count. Forgotten after a TTL (a second tab announces nothing).
   */
  const counted = new Map<string, number>();

  const publish = (event: TypingEvent, except: string | undefined) => {
    bus.publishTyping(event, except).catch((error: unknown) => {
      log.warn({ room: event.room, err: { message: (error as Error).message } }, 'typing not published');
    });
  };

  // Entries older than the TTL tell nothing any more (receivers expired them): dropped, so the map holds only
  // the users typing now.
  const sweep = setInterval(() => {
    const stale = now() - LIMITS.typingTtlMs;
    for (const [key, state] of typers) if (state.at < stale && !state.pending) typers.delete(key);
    for (const [key, at] of counted) if (at < stale) counted.delete(key);
  }, LIMITS.typingTtlMs);
  sweep.unref();

  return {
    typing(conn, { room, typing }) {
      if (!conn.rooms.has(room)) {
        roomAccess.check(conn, room);
        throw new ChorusError('NOT_IN_ROOM', `join room ${room} first`);
      }
      if ((sizes.get(room) ?? 0) > maxRoomSize) return;
      const key = `${room}\n${conn.user.id}`;
      const state = typers.get(key);
      const at = now();
      const event: TypingEvent = { room, user: toUser(conn.user), typing };
      if (!typing) {
        if (state?.pending) {
          clearTimeout(state.pending);
          state.pending = undefined;
        }
        // Already shown as stopped: nothing new. Unknown (typed through another gateway): said once.
        if (state && !state.sent) return;
        typers.set(key, { sent: false, at, pending: undefined });
        publish(event, conn.id);
        return;
      }
      if (state && at - state.at < throttleMs) {
        if (state.sent || state.pending) return;
        state.pending = setTimeout(
          () => {
            state.pending = undefined;
            if (typers.get(key) !== state || !conn.rooms.has(room)) return;
            state.sent = true;
            state.at = now();
            publish(event, conn.id);
          },
          throttleMs - (at - state.at),
        );
        state.pending.unref?.();
        return;
      }
      typers.set(key, { sent: true, at, pending: undefined });
      publish(event, conn.id);
    },

    sized(room, members, connId) {
      sizes.set(room, members);
      counted.set(`${room}\n${connId}`, now());
    },

    presence(event, except) {
      const count = sizes.get(event.room);
      if (count === undefined) return;
      if (event.state === 'joined' && except !== undefined && counted.delete(`${event.room}\n${except}`))
        return;
      sizes.set(event.room, Math.max(0, count + (event.state === 'joined' ? 1 : -1)));
    },

    forget(room) {
      sizes.delete(room);
      for (const [key, state] of typers) {
        if (!key.startsWith(`${room}\n`)) continue;
        clearTimeout(state.pending);
        typers.delete(key);
      }
      for (const key of counted.keys()) if (key.startsWith(`${room}\n`)) counted.delete(key);
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
