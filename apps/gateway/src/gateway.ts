import type { Server as HttpServer } from 'node:http';
import { LIMITS } from '@chorus/protocol';
import { Server } from 'socket.io';
import { createChatService } from './chat/chat.service';
import { LocalSinks } from './chat/delivery';
import { RoomFeed } from './chat/room-feed';
import type { ChorusServer, GatewayContext } from './context';
import type { GatewayDeps } from './deps';
import { createHttpApp } from './http/app';
import { originAllowed } from './http/origin';
import type { Logger } from './logger';
import { attachPlainWebSocket } from './plain/plain-ws';
import { HEARTBEAT_INTERVAL_MS } from './rooms/presence-store';
import { createRoomService } from './rooms/rooms.service';
import { handleSocketConnections } from './socket/socket-connection';

export interface GatewayOptions {
  nodeId: string;
  logger: Logger;
  /** Folder with the built web page, served at `/`. */
  webRoot?: string | undefined;
  /** Browser origins allowed to connect; undefined means same host only. */
  allowedOrigins?: readonly string[] | undefined;
  rateLimit?: { perSecond: number; burst: number };
}

export interface Gateway {
  io: ChorusServer;
  nodeId: string;
  /** Disconnects every client, leaves their rooms and stops serving. Does not close `deps`. */
  close(): Promise<void>;
}

/**
 * Builds one gateway on `httpServer` (which the caller listens on): the chat page and health endpoints,
 * Socket.IO on the default path, and the seed's plain WebSocket at `/ws`. It holds no cluster state: rooms,
 * history and members live in `deps`.
 *
 * @example
 * const server = createServer();
 * const gateway = createGateway(server, createMemoryDeps(), { nodeId: 'n1', logger });
 * server.listen(0);
 */
export function createGateway(httpServer: HttpServer, deps: GatewayDeps, options: GatewayOptions): Gateway {
  const logger = options.logger;
  const rateLimit = options.rateLimit ?? { perSecond: 10, burst: 20 };
  let draining = false;

  const app = createHttpApp({
    nodeId: options.nodeId,
    deps,
    logger,
    webRoot: options.webRoot,
    isDraining: () => draining,
  });
  httpServer.on('request', app);

  const io: ChorusServer = new Server(httpServer, {
    maxHttpBufferSize: LIMITS.maxFrameBytes,
    // The plain WebSocket endpoint shares the HTTP server; Socket.IO must leave other upgrades alone.
    destroyUpgrade: false,
    serveClient: false,
    allowRequest: (req, callback) => callback(null, originAllowed(req, options.allowedOrigins)),
    ...(options.allowedOrigins
      ? {
          cors: {
            origin: options.allowedOrigins.includes('*') ? true : [...options.allowedOrigins],
            credentials: true,
          },
        }
      : {}),
    ...(deps.adapter ? { adapter: deps.adapter } : {}),
  });

  const sinks = new LocalSinks();
  const feed = new RoomFeed({
    store: deps.messages,
    logger,
    // Every message of the cluster arrives here once, in seq order per room; hand it to local members only.
    deliver: (message) => {
      io.local.to(message.room).emit('message', message);
      sinks.deliver(message);
    },
    // Closing the transport (not disconnecting the socket) makes clients reconnect and rejoin with `since`,
    // which answers `recovered: false` with fresh history.
    reset: (room) => {
      const namespace = io.of('/');
      for (const id of namespace.adapter.rooms.get(room) ?? []) namespace.sockets.get(id)?.conn.close();
      sinks.reset(room);
    },
  });

  const ctx: GatewayContext = { io, deps, nodeId: options.nodeId, logger, feed };
  const rooms = createRoomService(ctx);
  const chat = createChatService(ctx);

  handleSocketConnections(ctx, { rooms, chat, rateLimit });
  const plain = attachPlainWebSocket(httpServer, ctx, {
    rooms,
    chat,
    sinks,
    allowedOrigins: options.allowedOrigins,
    rateLimit,
  });

  const unsubscribe = deps.messages.subscribe(feed);
  unsubscribe.catch((error: unknown) => logger.error({ err: error }, 'message feed subscription failed'));

  const beat = () =>
    deps.presence
      .heartbeat(options.nodeId)
      .then(() => deps.presence.sweep())
      .then((swept) => {
        if (swept > 0) logger.info({ swept }, 'swept members of dead gateways');
      })
      .catch((error: unknown) =>
        logger.warn({ err: { message: (error as Error).message } }, 'heartbeat failed'),
      );
  void beat();
  const heartbeat = setInterval(beat, HEARTBEAT_INTERVAL_MS);
  heartbeat.unref();

  logger.info({ mode: deps.mode }, 'gateway created');

  return {
    io,
    nodeId: options.nodeId,
    async close() {
      if (draining) return;
      draining = true;
      clearInterval(heartbeat);
      plain.close();
      // Closing the engine drops each transport ("transport close"), which clients treat as a reason to
      // reconnect (through the load balancer, to another gateway); disconnectSockets() would tell them not to.
      await new Promise<void>((resolve) => io.close(() => resolve()));
      httpServer.off('request', app);
      await (await unsubscribe.catch(() => async () => {}))();
      feed.close();
      await deps.presence.removeNode(options.nodeId).catch((error: unknown) => {
        logger.warn({ err: { message: (error as Error).message } }, 'could not remove presence on close');
      });
      logger.info('gateway closed');
    },
  };
}
