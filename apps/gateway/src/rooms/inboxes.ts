import type { DmOpenedEvent, User } from '@chorus/protocol';
import { inboxOf, type RoomBus } from '../bus/room-bus';
import type { Logger } from '../logger';

/**
 * The inboxes of the users connected to this gateway: while a user has a Socket.IO connection here, the gateway
 * hears their inbox on the bus (one subscription per user, however many tabs), so a notice for them — a direct
 * conversation someone opened — reaches every one of their connections, whichever gateway it was sent from.
 */
export class Inboxes {
  readonly #bus: RoomBus;
  readonly #log: Logger;
  /** inbox → local connections of its user */
  readonly #open = new Map<string, number>();

  constructor(bus: RoomBus, logger: Logger) {
    this.#bus = bus;
    this.#log = logger;
  }

  /** A connection of `user` opened here: returns the inbox (the Socket.IO room its connections sit in). */
  open(user: User): string {
    const inbox = inboxOf(user.id);
    const count = this.#open.get(inbox) ?? 0;
    this.#open.set(inbox, count + 1);
    if (count === 0) {
      this.#bus.subscribe(inbox).catch((error: unknown) => {
        this.#log.warn({ user: user.id, err: { message: (error as Error).message } }, 'inbox not subscribed');
      });
    }
    return inbox;
  }

  /** A connection of `user` closed here. */
  close(user: User): void {
    const inbox = inboxOf(user.id);
    const count = (this.#open.get(inbox) ?? 0) - 1;
    if (count > 0) {
      this.#open.set(inbox, count);
      return;
    }
    this.#open.delete(inbox);
    this.#bus.unsubscribe(inbox);
  }

  /** Tells every connection of the user `to` (on any gateway) about `event`. Best effort. */
  notify(to: string, event: DmOpenedEvent): void {
    this.#bus.publishDirect(inboxOf(to), event).catch((error: unknown) => {
      this.#log.warn({ to, err: { message: (error as Error).message } }, 'inbox notice not published');
    });
  }
}
