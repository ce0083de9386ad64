import { HistoryGetSchema, MessageSendSchema } from '@chorus/protocol';
import type { Socket } from 'socket.io';
import { sharedAck } from '../socket/ack';
import { connectionOf, oncePer } from '../socket/connections';
import type { ChatService } from './chat.service';

/** The listeners, made once per service and shared by every socket. */
const handlersOf = oncePer(chatHandlers);

/**
 * Registers `message:send` and `history:get`. The listeners are made once per service and shared by every
 * socket, which finds its connection (see `attachConnection`) through `this`.
 */
export function registerChatHandlers(socket: Socket, chat: ChatService): void {
  const handlers = handlersOf(chat);
  socket.on('message:send', handlers.send);
  socket.on('history:get', handlers.history);
}

function chatHandlers(chat: ChatService) {
  return {
    send: sharedAck('message:send', MessageSendSchema, connectionOf, async (conn, payload) => ({
      message: await chat.send(conn, payload),
    })),
    history: sharedAck('history:get', HistoryGetSchema, connectionOf, async (conn, payload) => ({
      messages: await chat.history(conn, payload),
    })),
  };
}
