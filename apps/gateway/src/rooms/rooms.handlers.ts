import { DmOpenSchema, RoomJoinSchema, RoomLeaveSchema, RoomsListSchema } from '@chorus/protocol';
import type { Socket } from 'socket.io';
import { sharedAck } from '../socket/ack';
import { connectionOf, oncePer } from '../socket/connections';
import type { RoomService } from './rooms.service';

/** The listeners, made once per service and shared by every socket. */
const handlersOf = oncePer(roomHandlers);

/**
 * Registers `room:join`, `room:leave`, `rooms:list` and `dm:open`. The listeners are made once per service and
 * shared by every socket, which finds its connection (see `attachConnection`) through `this`.
 */
export function registerRoomHandlers(socket: Socket, rooms: RoomService): void {
  const handlers = handlersOf(rooms);
  socket.on('room:join', handlers.join);
  socket.on('room:leave', handlers.leave);
  socket.on('rooms:list', handlers.list);
  socket.on('dm:open', handlers.dmOpen);
}

function roomHandlers(rooms: RoomService) {
  return {
    join: sharedAck('room:join', RoomJoinSchema, connectionOf, (conn, payload) => rooms.join(conn, payload)),
    leave: sharedAck('room:leave', RoomLeaveSchema, connectionOf, async (conn, { room }) => {
      await rooms.leave(conn, room);
      return {};
    }),
    list: sharedAck('rooms:list', RoomsListSchema, connectionOf, (_conn, payload) => rooms.list(payload)),
    dmOpen: sharedAck('dm:open', DmOpenSchema, connectionOf, async (conn, { user }) =>
      rooms.openDm(conn, user),
    ),
  };
}
