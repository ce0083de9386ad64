import type { ChatMessage } from '@chorus/protocol';

/** A local receiver of room messages that is not a Socket.IO socket (a plain WebSocket client). */
export interface MessageSink {
  deliver(message: ChatMessage): void;
  /** The room's history was lost or a gap cannot be replayed: the client must reconnect and reload. */
  reset(room: string): void;
}

/** Local plain receivers by room. Socket.IO sockets get their messages through `io.local.to(room)` instead. */
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

  /** How many plain receivers `room` has here. */
  size(room: string): number {
    return this.#rooms.get(room)?.size ?? 0;
  }

  deliver(message: ChatMessage): void {
    const sinks = this.#rooms.get(message.room);
    if (sinks) for (const sink of sinks) sink.deliver(message);
  }

  reset(room: string): void {
    const sinks = this.#rooms.get(room);
    if (sinks) for (const sink of [...sinks]) sink.reset(room);
  }
}
