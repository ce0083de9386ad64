import type { ChatMessage, DmOpenedEvent, TypingEvent } from '@chorus/protocol';
import type { AnnouncedPresence, BusListener, RoomBus } from './room-bus';

/**
 * The embedded-mode bus: one process, so publishing is a synchronous call to the listener for the rooms it
 * subscribed to. The memory message store publishes its appends here.
 */
export class MemoryRoomBus implements RoomBus {
  readonly #rooms = new Set<string>();
  #listener: BusListener | undefined;

  async listen(listener: BusListener): Promise<void> {
    this.#listener = listener;
  }

  async subscribe(room: string): Promise<void> {
    this.#rooms.add(room);
  }

  unsubscribe(room: string): void {
    this.#rooms.delete(room);
  }

  /** Called by the memory message store for every append. */
  publishMessage(message: ChatMessage): void {
    if (this.#rooms.has(message.room)) this.#listener?.message(message);
  }

  async publishPresence(changes: readonly AnnouncedPresence[]): Promise<void> {
    const room = changes[0]?.event.room;
    if (room !== undefined && this.#rooms.has(room)) this.#listener?.presence(changes);
  }

  async publishTyping(event: TypingEvent, except?: string): Promise<void> {
    if (this.#rooms.has(event.room)) this.#listener?.typing?.(event, except);
  }

  async publishDirect(inbox: string, event: DmOpenedEvent): Promise<void> {
    if (this.#rooms.has(inbox)) this.#listener?.direct?.(inbox, event);
  }

  healthy(): boolean {
    return true;
  }

  close(): void {}
}
