import { TypingSchema } from '@chorus/protocol';
import type { Socket } from 'socket.io';
import type { Connection } from '../connection';
import { sharedAck } from '../socket/ack';
import type { TypingService } from './typing.service';

/** Each socket's connection, for the handler all sockets share (an entry goes with its socket). */
const connections = new WeakMap<Socket, Connection>();
const handlers = new WeakMap<TypingService, ReturnType<typeof typingHandler>>();

/**
 * Registers `typing`. Like the chat handlers, the listener is made once per service and shared by every
 * socket (it finds its connection through `this`), so an idle connection pays one listener entry for it.
 */
export function registerTypingHandlers(socket: Socket, conn: Connection, typing: TypingService): void {
  connections.set(socket, conn);
  let handler = handlers.get(typing);
  if (!handler) {
    handler = typingHandler(typing);
    handlers.set(typing, handler);
  }
  socket.on('typing', handler);
}

function typingHandler(typing: TypingService) {
  return sharedAck(
    'typing',
    TypingSchema,
    (socket) => connections.get(socket),
    async (conn, payload) => {
      typing.typing(conn, payload);
      return {};
    },
  );
}
