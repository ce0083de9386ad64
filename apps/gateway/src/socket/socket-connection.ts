import type { Socket } from 'socket.io';
import type { Authenticator } from '../auth/authenticator';
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
import { registerTypingHandlers } from '../typing/typing.handlers';
import type { TypingService } from '../typing/typing.service';
import { observeAcks } from './ack-metrics';
import { guardEvents } from './guard';
import { useHandshake } from './handshake';

export interface SocketServices {
  rooms: RoomService;
  chat: ChatService;
  typing: TypingService;
  rateLimit: { perSecond: number; burst: number };
  requestLimits: RequestLimits;
  /** Whose `X-Forwarded-For` is believed. */
  proxies: TrustedProxies;
  /** Who connects: signed-in users and guests. */
  auth: Authenticator;
}

/** The longest timer Node keeps (about 24.8 days); a token valid for longer is checked again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Wires every Socket.IO connection: handshake, event guard, feature handlers, cleanup on disconnect. */
export function handleSocketConnections(ctx: GatewayContext, services: SocketServices): void {
  const io: ChorusServer = ctx.io;
  useHandshake(io, services.auth, ctx.addressLimiter, services.proxies, ctx.logger);
  io.on('connection', (socket) => {
    const { user, grants, expiresAt, guestToken } = socket.data;
    const log = ctx.logger.child({ socket: socket.id, user: user.id });
    const conn: Connection = {
      id: socket.id,
      user,
      grants,
      address: socket.data.address,
      rooms: new Set(),
      log,
      limiter: new TokenBucket(services.rateLimit),
      subscribe: (room) => void socket.join(room),
      unsubscribe: (room) => void socket.leave(room),
    };
    log.info({ transport: socket.conn.transport.name }, 'connected');
    // Notices for this user (a direct conversation opened with them) reach it through the user's inbox.
    void socket.join(ctx.inboxes.open(user));
    const untyped = socket as unknown as Socket;
    observeAcks(untyped, ctx.metrics);
    guardEvents(untyped, limitedWarn(log), new RequestBudget(services.requestLimits));
    registerRoomHandlers(untyped, conn, services.rooms);
    registerChatHandlers(untyped, conn, services.chat);
    registerTypingHandlers(untyped, conn, services.typing);
    // A signed-in user's connection lasts as long as their token: then the client is told, and closed, to come
    // back with a fresh one (the SDK does, and resumes).
    let expiry: NodeJS.Timeout | undefined;
    if (expiresAt !== undefined) {
      const expire = () => {
        const left = expiresAt - Date.now();
        if (left > 0) {
          expiry = setTimeout(expire, Math.min(left, MAX_TIMER_MS));
          return;
        }
        log.info('token expired; closing');
        socket.emit('auth:expired', { message: 'your token expired; reconnect with a fresh one' });
        socket.disconnect(true);
      };
      expire();
    }
    socket.on('disconnect', (reason) => {
      clearTimeout(expiry);
      ctx.inboxes.close(user);
      log.info({ reason }, 'disconnected');
      void services.rooms.leaveAll(conn);
    });
    socket.on('error', (error) => log.warn({ err: { message: error.message } }, 'socket error'));
    socket.emit('session', {
      user,
      node: ctx.nodeId,
      ...(guestToken !== undefined ? { guestToken } : {}),
      ...(expiresAt !== undefined ? { expiresAt } : {}),
    });
  });
}
