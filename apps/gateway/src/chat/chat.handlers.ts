import { HistoryGetSchema, MessageSendSchema } from '@chorus/protocol';
import type { Socket } from 'socket.io';
import type { Connection } from '../connection';
import { withAck } from '../socket/ack';
import type { ChatService } from './chat.service';

export function registerChatHandlers(socket: Socket, conn: Connection, chat: ChatService): void {
  socket.on(
    'message:send',
    withAck('message:send', MessageSendSchema, conn.log, async (payload) => ({
      message: await chat.send(conn, payload),
    })),
  );
  socket.on(
    'history:get',
    withAck('history:get', HistoryGetSchema, conn.log, async (payload) => ({
      messages: await chat.history(conn, payload),
    })),
  );
}
