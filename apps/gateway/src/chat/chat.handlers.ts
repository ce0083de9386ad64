import { HistoryGetSchema, MessageSendSchema } from '@chorus/protocol';
import type { Socket } from 'socket.io';
import type { Connection } from '../connection';
import { sharedAck } from '../socket/ack';
import type { ChatService } from './chat.service';

type ChatHandlers = ReturnType<typeof chatHandlers>;

/** Each socket's connection, for the handlers all sockets share (an entry goes with its socket). */
const connections = new WeakMap<Socket, Connection>();
const handlersByService = new WeakMap<ChatService, ChatHandlers>();

/**
 * Registers `message:send` and `history:get`. The listeners are made once per service and shared by every
 * socket, which finds its connection through `this`: an idle connection carries two listener entries, not four
 * closures with their contexts.
 */
export function registerChatHandlers(socket: Socket, conn: Connection, chat: ChatService): void {
  connections.set(socket, conn);
  let handlers = handlersByService.get(chat);
  if (!handlers) {
    handlers = chatHandlers(chat);
    handlersByService.set(chat, handlers);
  }
  socket.on('message:send', handlers.send);
  socket.on('history:get', handlers.history);
}

function connectionOf(socket: Socket): Connection | undefined {
  return connections.get(socket);
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
