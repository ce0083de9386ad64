import { TypingSchema } from '@chorus/protocol';
import type { Socket } from 'socket.io';
import { sharedAck } from '../socket/ack';
import { connectionOf, oncePer } from '../socket/connections';
import type { TypingService } from './typing.service';

/** The listeners, made once per service and shared by every socket. */
const handlerOf = oncePer(typingHandler);

/**
 * Registers `typing`. Like the chat handlers, the listener is made once per service and shared by every
 * socket, which finds its connection (see `attachConnection`) through `this`.
 */
export function registerTypingHandlers(socket: Socket, typing: TypingService): void {
  socket.on('typing', handlerOf(typing));
}

function typingHandler(typing: TypingService) {
  return sharedAck('typing', TypingSchema, connectionOf, async (conn, payload) => {
    typing.typing(conn, payload);
    return {};
  });
}
