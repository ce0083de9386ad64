import { LIMITS, type TypingEvent, type User } from '@chorus/protocol';

/**
 * Who is typing where, as this client has heard it. A `typing: true` holds for `LIMITS.typingTtlMs` unless it
 * is refreshed; when it runs out, or its user stops or leaves, `changed` reports a `typing: false`. Only
 * changes are reported: a refresh of someone already typing is not.
 */
export class RemoteTypers {
  readonly #changed: (event: TypingEvent) => void;
  readonly #ttlMs: number;
  /** room → user id → their expiry timer and who they are */
  readonly #rooms = new Map<string, Map<string, { user: User; timer: ReturnType<typeof setTimeout> }>>();

  constructor(changed: (event: TypingEvent) => void, ttlMs: number = LIMITS.typingTtlMs) {
    this.#changed = changed;
    this.#ttlMs = ttlMs;
  }

  /** A `typing` event from the server. */
  heard(event: TypingEvent): void {
    if (!event.typing) {
      this.stopped(event.room, event.user.id);
      return;
    }
    let room = this.#rooms.get(event.room);
    if (!room) {
      room = new Map();
      this.#rooms.set(event.room, room);
    }
    const known = room.get(event.user.id);
    if (known) clearTimeout(known.timer);
    const timer = setTimeout(() => this.stopped(event.room, event.user.id), this.#ttlMs);
    room.set(event.user.id, { user: event.user, timer });
    if (!known) this.#changed(event);
  }

  /** `user` stopped typing in `room` (said so, sent a message, left, or went quiet): reported if they were typing. */
  stopped(room: string, userId: string): void {
    const users = this.#rooms.get(room);
    const known = users?.get(userId);
    if (!users || !known) return;
    clearTimeout(known.timer);
    users.delete(userId);
    if (users.size === 0) this.#rooms.delete(room);
    this.#changed({ room, user: known.user, typing: false });
  }

  /** Who is typing in `room` now, in the order they started. */
  in(room: string): User[] {
    return [...(this.#rooms.get(room)?.values() ?? [])].map((entry) => entry.user);
  }

  /** Forgets `room` (left) or everything, reporting nothing. */
  clear(room?: string): void {
    for (const [name, users] of this.#rooms) {
      if (room !== undefined && name !== room) continue;
      for (const { timer } of users.values()) clearTimeout(timer);
      this.#rooms.delete(name);
    }
  }
}

/**
 * This client's own typing, per room: `typing(room, true)` on every keystroke sends `typing: true` at once
 * and then again every `LIMITS.typingRefreshMs` while keystrokes keep coming; after `LIMITS.typingTtlMs`
 * without one, or on `typing(room, false)`, it sends `typing: false` once and goes quiet.
 */
export class LocalTyping {
  readonly #send: (room: string, typing: boolean) => void;
  readonly #rooms = new Map<string, { lastKeyAt: number; timer: ReturnType<typeof setInterval> }>();

  constructor(send: (room: string, typing: boolean) => void) {
    this.#send = send;
  }

  set(room: string, typing: boolean): void {
    const current = this.#rooms.get(room);
    if (!typing) {
      if (!current) return;
      clearInterval(current.timer);
      this.#rooms.delete(room);
      this.#send(room, false);
      return;
    }
    if (current) {
      current.lastKeyAt = Date.now();
      return;
    }
    const entry = {
      lastKeyAt: Date.now(),
      timer: setInterval(() => {
        if (Date.now() - entry.lastKeyAt >= LIMITS.typingTtlMs) this.set(room, false);
        else this.#send(room, true);
      }, LIMITS.typingRefreshMs),
    };
    this.#rooms.set(room, entry);
    this.#send(room, true);
  }

  /** Whether this client is typing in `room` (it keeps telling the room). */
  has(room: string): boolean {
    return this.#rooms.has(room);
  }

  /** Stops every refresh without telling anyone (the connection is closing or the room was left). */
  clear(room?: string): void {
    for (const [name, entry] of this.#rooms) {
      if (room !== undefined && name !== room) continue;
      clearInterval(entry.timer);
      this.#rooms.delete(name);
    }
  }
}
