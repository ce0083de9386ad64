import type { PresenceEvent } from '@chorus/protocol';
import type { AnnouncedPresence, RoomBus } from '../bus/room-bus';

interface RoomWindow {
  /** When the room's last frame went out. */
  sentAt: number;
  /** Each user's state as last sent, while the room's windows follow one another. */
  sent: Map<string, PresenceEvent['state']>;
  /** Changes waiting for the window to pass, the latest per user. */
  readonly pending: Map<string, AnnouncedPresence>;
}

/**
 * Sends presence changes to a room's members, at most one frame per room per `windowMs`. The first change goes
 * out at once; the changes that follow within the window wait for its end and go out together, each user once
 * with their final state, and only if that differs from what was last sent for them. So ordinary joins and
 * leaves are announced as they happen; a client that cycles join/leave hundreds of times costs the room one
 * change per window; and a mass reconnect of n users costs each member a frame per window instead of n frames
 * (n² frames in all).
 */
export class PresenceAnnouncer {
  readonly #bus: RoomBus;
  readonly #windowMs: number;
  readonly #onError: (room: string, error: Error) => void;
  readonly #rooms = new Map<string, RoomWindow>();
  #timer: NodeJS.Timeout | undefined;

  constructor(bus: RoomBus, options: { windowMs?: number; onError: (room: string, error: Error) => void }) {
    this.#bus = bus;
    this.#windowMs = options.windowMs ?? 200;
    this.#onError = options.onError;
  }

  /** Announces `event` (not to the connection `except`), now or at the end of the room's window. */
  announce(event: PresenceEvent, except?: string): void {
    let window = this.#rooms.get(event.room);
    if (!window) {
      window = { sentAt: Number.NEGATIVE_INFINITY, sent: new Map(), pending: new Map() };
      this.#rooms.set(event.room, window);
    }
    window.pending.set(event.user.id, except === undefined ? { event } : { event, except });
    const now = Date.now();
    if (now - window.sentAt >= this.#windowMs) this.#sendPending(window, now);
    this.#schedule();
  }

  /** Sends what waits in rooms whose window passed (every room's, with `force`), and forgets quiet rooms. */
  flush(force = false): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const now = Date.now();
    for (const [room, window] of this.#rooms) {
      if (!force && now - window.sentAt < this.#windowMs) continue;
      if (!this.#sendPending(window, now)) this.#rooms.delete(room);
    }
    this.#schedule();
  }

  close(): void {
    this.flush(true);
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#timer || this.#rooms.size === 0) return;
    this.#timer = setTimeout(() => this.flush(), this.#windowMs);
    this.#timer.unref();
  }

  /** Sends the room's pending changes that are news, in one frame; false when there was none. */
  #sendPending(window: RoomWindow, now: number): boolean {
    const changes = [...window.pending.values()].filter(
      ({ event }) => window.sent.get(event.user.id) !== event.state,
    );
    window.pending.clear();
    if (changes.length === 0) return false;
    for (const { event } of changes) window.sent.set(event.user.id, event.state);
    window.sentAt = now;
    this.#send(changes);
    return true;
  }

  #send(changes: AnnouncedPresence[]): void {
    this.#bus
      .publishPresence(changes)
      .catch((error: unknown) => this.#onError(changes[0]!.event.room, error as Error));
  }
}
