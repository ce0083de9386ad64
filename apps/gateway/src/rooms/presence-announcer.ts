import type { PresenceEvent } from '@chorus/protocol';
import type { RoomBus } from '../bus/room-bus';

interface UserState {
  /** The state last sent for this user in this room, and when. */
  sent: PresenceEvent['state'];
  sentAt: number;
  /** A newer event waiting for the window to pass. */
  pending: { event: PresenceEvent; except: string | undefined } | undefined;
}

/**
 * Sends presence events to the room's members, at most one per user and room per `windowMs`: the first change
 * goes out at once; changes within the window wait for its end, and only the final state goes out, if it
 * differs from what was last sent. So a client that cycles join/leave hundreds of times costs the room one
 * event per window, while ordinary joins and leaves are announced as they happen.
 */
export class PresenceAnnouncer {
  readonly #bus: RoomBus;
  readonly #windowMs: number;
  readonly #onError: (room: string, error: Error) => void;
  /** `room\nuser id` → state */
  readonly #users = new Map<string, UserState>();
  #timer: NodeJS.Timeout | undefined;

  constructor(bus: RoomBus, options: { windowMs?: number; onError: (room: string, error: Error) => void }) {
    this.#bus = bus;
    this.#windowMs = options.windowMs ?? 200;
    this.#onError = options.onError;
  }

  /** Announces `event` (not to the connection `except`), now or at the end of the user's window. */
  announce(event: PresenceEvent, except?: string): void {
    const key = `${event.room}\n${event.user.id}`;
    const now = Date.now();
    const user = this.#users.get(key);
    if (!user || now - user.sentAt >= this.#windowMs) {
      this.#users.set(key, { sent: event.state, sentAt: now, pending: undefined });
      this.#send(event, except);
    } else {
      user.pending = { event, except };
    }
    this.#schedule();
  }

  /** Sends what waits and forgets users whose window passed. */
  flush(force = false): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const now = Date.now();
    for (const [key, user] of this.#users) {
      if (!force && now - user.sentAt < this.#windowMs) continue;
      const pending = user.pending;
      if (pending && pending.event.state !== user.sent) {
        this.#send(pending.event, pending.except);
        this.#users.set(key, { sent: pending.event.state, sentAt: now, pending: undefined });
      } else this.#users.delete(key);
    }
    this.#schedule();
  }

  close(): void {
    this.flush(true);
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#timer || this.#users.size === 0) return;
    this.#timer = setTimeout(() => this.flush(), this.#windowMs);
    this.#timer.unref();
  }

  #send(event: PresenceEvent, except: string | undefined): void {
    this.#bus
      .publishPresence(event, except)
      .catch((error: unknown) => this.#onError(event.room, error as Error));
  }
}
