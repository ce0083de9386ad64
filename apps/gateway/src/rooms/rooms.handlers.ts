import { DmOpenSchema, RoomJoinSchema, RoomLeaveSchema, RoomsListSchema } from '@chorus/protocol';
import type { Socket } from 'socket.io';
import type { Connection } from '../connection';
import { withAck } from '../socket/ack';
import type { RoomService } from './rooms.service';

export function registerRoomHandlers(socket: Socket, conn: Connection, rooms: RoomService): void {
  socket.on(
    'room:join',
    withAck('room:join', RoomJoinSchema, conn.log, (payload) => rooms.join(conn, payload)),
  );
  socket.on(
    'room:leave',
    withAck('room:leave', RoomLeaveSchema, conn.log, async ({ room }) => {
      await rooms.leave(conn, room);
      return {};
    }),
  );
  socket.on(
    'rooms:list',
    withAck('rooms:list', RoomsListSchema, conn.log, (payload) => rooms.list(payload)),
  );
  socket.on(
    'dm:open',
    withAck('dm:open', DmOpenSchema, conn.log, async ({ user }) => rooms.openDm(conn, user)),
  );
}
