import type { Socket } from 'socket.io';
import { registerChatHandlers } from '../chat/chat.handlers';
import type { ChatService } from '../chat/chat.service';
import type { Connection } from '../connection';
import type { ChorusServer, GatewayContext } from '../context';
import type { TrustedProxies } from '../http/client-address';
import { limitedWarn } from '../limits/log-limiter';
import { RequestBudget, type RequestLimits } from '../limits/request-budget';
import { TokenBucket } from '../limits/token-bucket';
import { registerRoomHandlers } from '../rooms/rooms.handlers';
import type { RoomService } from '../rooms/rooms.service';
import { observeAcks } from './ack-metrics';
import { guardEvents } from './guard';
import { useHandshake } from './handshake';

export interface SocketServices {
  rooms: RoomService;
  chat: ChatService;
  rateLimit: { perSecond: number; burst: number };
  requestLimits: RequestLimits;
  /** Whose `X-Forwarded-For` is believed. */
  proxies: TrustedProxies;
}

/** Wires every Socket.IO connection: handshake, event guard, feature handlers, cleanup on disconnect. */
export function handleSocketConnections(ctx: GatewayContext, services: SocketServices): void {
  const io: ChorusServer = ctx.io;
  useHandshake(io, ctx.addressLimiter, services.proxies);
  io.on('connection', (socket) => {
    const user = socket.data.user;
    const log = ctx.logger.child({ socket: socket.id, user: user.id });
    const conn: Connection = {
      id: socket.id,
      user,
      address: socket.data.address,
      rooms: new Set(),
      log,
      limiter: new TokenBucket(services.rateLimit),
      subscribe: (room) => void socket.join(room),
      unsubscribe: (room) => void socket.leave(room),
    };
    log.info({ transport: socket.conn.transport.name }, 'connected');
    const untyped = socket as unknown as Socket;
    observeAcks(untyped, ctx.metrics);
    guardEvents(untyped, limitedWarn(log), new RequestBudget(services.requestLimits));
    registerRoomHandlers(untyped, conn, services.rooms);
    registerChatHandlers(untyped, conn, services.chat);
    socket.on('disconnect', (reason) => {
      log.info({ reason }, 'disconnected');
      void services.rooms.leaveAll(conn);
    });
    socket.on('error', (error) => log.warn({ err: { message: error.message } }, 'socket error'));
    socket.emit('session', { user, node: ctx.nodeId });
  });
}
