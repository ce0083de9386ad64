import { TypingSchema } from '@chorus/protocol';
import type { Socket } from 'socket.io';
import { sharedAck } from '../socket/ack';
import { connectionOf } from '../socket/connections';
import type { TypingService } from './typing.service';

const handlers = new WeakMap<TypingService, ReturnType<typeof typingHandler>>();

/**
 * Registers `typing`. Like the chat handlers, the listener is made once per service and shared by every
 * socket, which finds its connection (see `attachConnection`) through `this`.
 */
export function registerTypingHandlers(socket: Socket, typing: TypingService): void {
  let handler = handlers.get(typing);
  if (!handler) {
    handler = typingHandler(typing);
    handlers.set(typing, handler);
  }
  socket.on('typing', handler);
}

function typingHandler(typing: TypingService) {
  return sharedAck('typing', TypingSchema, connectionOf, async (conn, payload) => {
    typing.typing(conn, payload);
    return {};
  });
}
