import type { SocketData, User } from '@chorus/protocol';
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
import type { Logger } from '../logger';
import { registerRoomHandlers } from '../rooms/rooms.handlers';
import type { RoomService } from '../rooms/rooms.service';
import { registerTypingHandlers } from '../typing/typing.handlers';
import type { TypingService } from '../typing/typing.service';
import { observeAcks } from './ack-metrics';
import { attachConnection, connectionOf } from './connections';
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

/**
 * A Socket.IO client as the services see it. What most connections never use (their logger, the send bucket)
 * is made at first use: an idle connection carries its identity, its rooms and its socket, little else.
 */
class SocketIoConnection implements Connection {
  readonly id: string;
  readonly user: User;
  readonly grants: readonly string[];
  readonly address: string;
  readonly rooms = new Set<string>();
  /** The token-expiry timer of a signed-in user's connection. */
  expiry: NodeJS.Timeout | undefined;
  readonly #socket: Socket;
  readonly #logger: Logger;
  readonly #rateLimit: { perSecond: number; burst: number };
  #log: Logger | undefined;
  #limiter: TokenBucket | undefined;

  constructor(socket: Socket, logger: Logger, rateLimit: { perSecond: number; burst: number }) {
    const data = socket.data as SocketData;
    this.id = socket.id;
    this.user = data.user;
    this.grants = data.grants;
    this.address = data.address;
    this.#socket = socket;
    this.#logger = logger;
    this.#rateLimit = rateLimit;
  }

  get log(): Logger {
    this.#log ??= this.#logger.child({ socket: this.id, user: this.user.id });
    return this.#log;
  }

  get limiter(): TokenBucket {
    this.#limiter ??= new TokenBucket(this.#rateLimit);
    return this.#limiter;
  }

  get closed(): boolean {
    return this.#socket.disconnected;
  }

  subscribe(room: string): void {
    void this.#socket.join(room);
  }

  unsubscribe(room: string): void {
    void this.#socket.leave(room);
  }
}

/** Wires every Socket.IO connection: handshake, event guard, feature handlers, cleanup on disconnect. */
export function handleSocketConnections(ctx: GatewayContext, services: SocketServices): void {
  const io: ChorusServer = ctx.io;
  useHandshake(io, services.auth, ctx.addressLimiter, services.proxies, ctx.logger);
  // Shared by every socket (each finds its connection through `this`), so a connection pays no closure for them.
  function onDisconnect(this: Socket, reason: string): void {
    const conn = connectionOf(this) as SocketIoConnection | undefined;
    if (!conn) return;
    clearTimeout(conn.expiry);
    ctx.inboxes.close(conn.user);
    ctx.logger.info({ socket: conn.id, user: conn.user.id, reason }, 'disconnected');
    void services.rooms.leaveAll(conn);
  }
  function onError(this: Socket, error: Error): void {
    connectionOf(this)?.log.warn({ err: { message: error.message } }, 'socket error');
  }
  io.on('connection', (typed) => {
    const socket = typed as unknown as Socket;
    const { user, expiresAt, guestToken } = typed.data;
    const conn = new SocketIoConnection(socket, ctx.logger, services.rateLimit);
    attachConnection(socket, conn);
    // Through the gateway's logger: the connection's own is made only if something about it is logged later.
    ctx.logger.info({ socket: conn.id, user: user.id, transport: socket.conn.transport.name }, 'connected');
    // Notices for this user (a direct conversation opened with them) reach it through the user's inbox.
    void socket.join(ctx.inboxes.open(user));
    observeAcks(socket, ctx.metrics);
    guardEvents(
      socket,
      limitedWarn(() => conn.log),
      new RequestBudget(services.requestLimits),
    );
    registerRoomHandlers(socket, services.rooms);
    registerChatHandlers(socket, services.chat);
    registerTypingHandlers(socket, services.typing);
    // A signed-in user's connection lasts as long as their token: then the client is told, and closed, to come
    // back with a fresh one (the SDK does, and resumes).
    if (expiresAt !== undefined) {
      const expire = () => {
        const left = expiresAt - Date.now();
        if (left > 0) {
          conn.expiry = setTimeout(expire, Math.min(left, MAX_TIMER_MS));
          return;
        }
        conn.log.info('token expired; closing');
        typed.emit('auth:expired', { message: 'your token expired; reconnect with a fresh one' });
        socket.disconnect(true);
      };
      expire();
    }
    socket.on('disconnect', onDisconnect);
    socket.on('error', onError);
    typed.emit('session', {
      user,
      node: ctx.nodeId,
      ...(guestToken !== undefined ? { guestToken } : {}),
      ...(expiresAt !== undefined ? { expiresAt } : {}),
    });
    // Said once; the connection has no further use for it.
    typed.data.guestToken = undefined;
  });
}
