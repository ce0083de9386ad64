import type { ChatMessage } from '@chorus/protocol';

export type MessageSink = (message: ChatMessage) => void;

/**
 * Local receivers of room messages that are not Socket.IO sockets (plain WebSocket clients).
 * Socket.IO sockets get theirs through `io.local.to(room)`.
 */
export class LocalSinks {
  readonly #rooms = new Map<string, Set<MessageSink>>();

  add(room: string, sink: MessageSink): void {
    let sinks = this.#rooms.get(room);
    if (!sinks) {
      sinks = new Set();
      this.#rooms.set(room, sinks);
    }
    sinks.add(sink);
  }

  remove(room: string, sink: MessageSink): void {
    const sinks = this.#rooms.get(room);
    sinks?.delete(sink);
    if (sinks?.size === 0) this.#rooms.delete(room);
  }

  deliver(message: ChatMessage): void {
    const sinks = this.#rooms.get(message.room);
    if (sinks) for (const sink of sinks) sink(message);
  }
}
