import { randomBytes } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import { LIMITS } from '@chorus/protocol';
import express from 'express';
import { Server } from 'socket.io';
import { startStatsReporter } from './admin/stats-reporter';
import { createApiRoutes } from './api/api.routes';
import { Authenticator, type AuthOptions } from './auth/authenticator';
import type { AnnouncedPresence } from './bus/room-bus';
import { createChatService } from './chat/chat.service';
import { LocalSinks } from './chat/delivery';
import { RoomFeed } from './chat/room-feed';
import type { ChorusServer, GatewayContext } from './context';
import type { GatewayDeps } from './deps';
import { AccessPolicy } from './http/access';
import { createHttpApp } from './http/app';
import {
  type AddressOf,
  clientAddress,
  DEFAULT_TRUSTED_PROXIES,
  TrustedProxies,
} from './http/client-address';
import { Inflight } from './inflight';
import { Readiness } from './lifecycle/readiness';
import { startRebalancer } from './lifecycle/rebalancer';
import { AddressLimiter, type AddressLimits, DEFAULT_ADDRESS_LIMITS } from './limits/address-limiter';
import { limitedWarn } from './limits/log-limiter';
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from './limits/request-budget';
import { DEFAULT_MAX_BUFFERED_BYTES, watchSlowConsumers } from './limits/slow-consumers';
import type { Logger } from './logger';
import { createMetrics, type GatewayMetrics } from './metrics/metrics';
import { attachPlainWebSocket } from './plain/plain-ws';
import { Inboxes } from './rooms/inboxes';
import { PresenceAnnouncer } from './rooms/presence-announcer';
import { emitPresence, PresenceWatch } from './rooms/presence-delivery';
import { HEARTBEAT_INTERVAL_MS } from './rooms/presence-store';
import { createRoomService, type RoomService } from './rooms/rooms.service';
import { handleSocketConnections } from './socket/socket-connection';
import { createTypingService } from './typing/typing.service';

export interface GatewayOptions {
  nodeId: string;
  logger: Logger;
  /** Folder with the built web page, served at `/`. */
  webRoot?: string | undefined;
  /** Browser origins allowed to connect; undefined means same host only. */
  allowedOrigins?: readonly string[] | undefined;
  /** Where users reach the cluster (`PUBLIC_URL`): its host is served and its scheme expected of origins. */
  publicUrl?: string | undefined;
  /** More `Host` names to serve besides localhost, IP addresses and `publicUrl`'s host (`ALLOWED_HOSTS`). */
  allowedHosts?: readonly string[] | undefined;
  rateLimit?: { perSecond: number; burst: number };
  /** Every request of a Socket.IO connection (default `DEFAULT_REQUEST_LIMITS`). */
  requestLimits?: RequestLimits | undefined;
  /** Where this gateway counts; omitted means a fresh set (see `createMetrics`), served at `/metrics` either way. */
  metrics?: GatewayMetrics | undefined;
  /** Bearer token of the cluster page's API (`/admin`); omitted means no admin API (404). */
  adminToken?: string | undefined;
  /**
   * Spreading connections back after a gateway restarts or joins (see `startRebalancer`); `false` turns it off.
   * Defaults: look every 5 s, shed up to 5 connections a second while more than 20% above the average.
   */
  rebalance?: { intervalMs?: number; perSecond?: number; tolerance?: number } | false | undefined;
  /** Limits per client address, cluster-wide (default `DEFAULT_ADDRESS_LIMITS`). */
  addressLimits?: AddressLimits | undefined;
  /** Peers whose `X-Forwarded-For` is believed (default loopback and private networks: the balancers). */
  trustedProxies?: readonly string[] | undefined;
  /** Bytes a connection may have unsent before it is closed as a slow consumer (default 4 MiB). */
  maxBufferedBytes?: number | undefined;
  /** Sends this gateway may have waiting on Redis at once; more are answered `RATE_LIMITED` (default 2000). */
  maxSendsInFlight?: number | undefined;
  /** Joins this gateway works on at once; more wait their turn (default 64). */
  maxJoinsInFlight?: number | undefined;
  /** How long Redis may be in trouble before `/readyz` turns 503 (default 10 s; see `Readiness`). */
  readinessGraceMs?: number | undefined;
  /**
   * Who may connect: signed-in users' JWTs (`secret` and/or `jwksUrl`, `issuer`, `audience`), and guests
   * (`guests`, default on; their tokens signed with `sessionSecret`, or a secret the cluster shares in Redis).
   */
  auth?: AuthOptions | undefined;
  /** Bearer key of the server API at `/api` (`API_KEY`); omitted means no server API (404). */
  apiKey?: string | undefined;
  /** Rooms with more members than this get no typing events (`TYPING_MAX_ROOM_SIZE`, default 100). */
  typingMaxRoomSize?: number | undefined;
}

/** How a gateway hands its clients to the rest of the cluster when it stops. */
export interface DrainOptions {
  /** Time between readiness turning 503 and the first disconnect, so load balancers stop routing here. */
  noticeMs?: number;
  /** Connections moved off per batch, and the pause between batches (spreads the reconnect load). */
  batchSize?: number;
  batchIntervalMs?: number;
  /** Longest wait for sends already accepted. */
  inflightTimeoutMs?: number;
}

export interface Gateway {
  io: ChorusServer;
  nodeId: string;
  /** True once a drain or close started: readiness answers 503 and new connections are refused. */
  readonly draining: boolean;
  /**
   * Drains and stops: readiness turns 503, new connections are refused, clients are disconnected in batches
   * in a way that makes them reconnect (to other gateways), sends in flight are awaited, memberships removed.
   * Does not close `deps`. Without options it drains at once (tests).
   */
  close(drain?: DrainOptions): Promise<void>;
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
  /** Set once a drain stops taking sends, right before it moves the clients off. */
  let stopping = false;
  const metrics = options.metrics ?? createMetrics(options.nodeId);
  const presenceNode = `${options.nodeId}~${randomBytes(4).toString('hex')}`;

  const access = new AccessPolicy(options);
  const proxies = new TrustedProxies(options.trustedProxies ?? DEFAULT_TRUSTED_PROXIES);
  const addressOf: AddressOf = (req) => clientAddress(req, proxies);
  // Its routes need the chat service, made below; the app that mounts it must exist before Socket.IO attaches.
  const api = options.apiKey ? express.Router() : undefined;
  const readiness = new Readiness({
    check: () => deps.checkReady(),
    logger,
    graceMs: options.readinessGraceMs,
  });
  readiness.start();
  const app = createHttpApp({
    nodeId: options.nodeId,
    deps,
    logger,
    webRoot: options.webRoot,
    isDraining: () => draining,
    readiness: () => readiness.state(),
    access,
    metrics,
    adminToken: options.adminToken,
    api,
    addressOf,
  });
  httpServer.on('request', app);

  const io: ChorusServer = new Server(httpServer, {
    maxHttpBufferSize: LIMITS.maxFrameBytes,
    // The plain WebSocket endpoint shares the HTTP server; Socket.IO must leave other upgrades alone.
    destroyUpgrade: false,
    serveClient: false,
    allowRequest: (req, callback) => {
      if (draining) callback('draining', false);
      // Refused as 403 Forbidden, whether for the host or the origin.
      else callback(null, access.check(req) === undefined);
    },
    ...(options.allowedOrigins
      ? {
          cors: {
            origin: options.allowedOrigins.includes('*') ? true : [...options.allowedOrigins],
            credentials: true,
          },
        }
      : {}),
  });

  const sinks = new LocalSinks();
  const feed = new RoomFeed({
    store: deps.messages,
    bus: deps.bus,
    logger,
    // Every message of the rooms this gateway hosts arrives here once, in seq order per room; hand it to local members.
    deliver: (message) => {
      io.local.to(message.room).emit('message', message);
      sinks.deliver(message);
      const sockets = io.of('/').adapter.rooms.get(message.room)?.size ?? 0;
      metrics.messagesOut.inc(sockets + sinks.size(message.room));
      // Across gateways this includes their clock difference.
      metrics.fanoutLatency.observe(Math.max(0, Date.now() - message.ts) / 1000);
    },
    // Closing the transport (not disconnecting the socket) makes clients reconnect and rejoin with `since`,
    // which answers `recovered: false` with fresh history.
    reset: (room) => {
      const namespace = io.of('/');
      for (const id of namespace.adapter.rooms.get(room) ?? []) namespace.sockets.get(id)?.conn.close();
      sinks.reset(room);
    },
  });

  const inflight = new Inflight();
  const addressLimiter = new AddressLimiter(
    deps.addressLimits,
    presenceNode,
    options.addressLimits ?? DEFAULT_ADDRESS_LIMITS,
    logger,
  );
  const ctx: GatewayContext = {
    io,
    deps,
    nodeId: options.nodeId,
    presenceNode,
    isStopping: () => stopping,
    logger,
    feed,
    inflight,
    addressLimiter,
    presenceAnnouncer: new PresenceAnnouncer(deps.bus, {
      onError: (room, error) =>
        logger.warn({ room, err: { message: error.message } }, 'presence not published'),
    }),
    presenceWatch: new PresenceWatch(),
    inboxes: new Inboxes(deps.bus, logger),
    metrics,
  };
  const typing = createTypingService(deps.bus, logger, { maxRoomSize: options.typingMaxRoomSize });
  const roomService = createRoomService(ctx, { maxJoinsInFlight: options.maxJoinsInFlight });
  // The typing size cap reads the member count each Socket.IO join already fetched: no Redis read per keystroke.
  const rooms: RoomService = {
    ...roomService,
    async join(conn, request) {
      const result = await roomService.join(conn, request);
      if (io.of('/').sockets.has(conn.id)) typing.sized(request.room, result.memberCount, conn.id);
      return result;
    },
  };
  io.of('/').adapter.on('delete-room', (room: string) => typing.forget(room));
  const chat = createChatService(ctx, { maxSendsInFlight: options.maxSendsInFlight });

  handleSocketConnections(ctx, {
    rooms,
    chat,
    typing,
    rateLimit,
    requestLimits: options.requestLimits ?? DEFAULT_REQUEST_LIMITS,
    proxies,
    auth: new Authenticator(options.auth ?? {}, () => deps.secret.get()),
  });
  if (api && options.apiKey)
    api.use(createApiRoutes({ apiKey: options.apiKey, chat, deps, logger, addressOf }));
  const plain = attachPlainWebSocket(httpServer, ctx, {
    rooms,
    chat,
    sinks,
    access,
    proxies,
    rateLimit,
    maxBufferedBytes: options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES,
    isDraining: () => draining,
    allowGuests: options.auth?.guests ?? true,
  });

  metrics.observeLoad(() => ({ socketio: io.of('/').sockets.size, plain: plain.size(), ...feed.load() }));
  const reporter = startStatsReporter({
    store: deps.stats,
    nodeId: options.nodeId,
    metrics,
    logger,
    isDraining: () => draining,
  });

  const rebalancer =
    options.rebalance === false
      ? undefined
      : startRebalancer({
          ...options.rebalance,
          nodeId: options.nodeId,
          stats: deps.stats,
          logger,
          connections: () => io.of('/').sockets.size,
          shed: (count) => {
            if (draining) return 0;
            let moved = 0;
            for (const socket of io.of('/').sockets.values()) {
              if (moved >= count) break;
              socket.conn.close();
              moved += 1;
            }
            metrics.rebalanced.inc(moved);
            return moved;
          },
          onSpread: (spread) => metrics.connectionSpread.set(spread),
        });

  const maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  const slowWarn = limitedWarn(logger);
  const slowConsumers = watchSlowConsumers(() => io.of('/').sockets.values(), {
    maxBytes: maxBufferedBytes,
    onClose: (socket, bytes) => {
      metrics.slowConsumers.inc({ transport: 'socketio' });
      slowWarn({ socket: socket.id, user: socket.data.user?.id, bytes }, 'closed a slow consumer');
    },
  });

  // Per message: the labelled series looked up once, not on every frame.
  const messageFrames = metrics.busFrames.labels('message');
  const presenceFrames = metrics.busFrames.labels('presence');
  const typingFrames = metrics.busFrames.labels('typing');
  const listening = deps.bus.listen({
    message: (message) => {
      messageFrames.inc();
      feed.message(message);
    },
    presence: (changes) => {
      presenceFrames.inc();
      for (const { event, except } of changes) typing.presence(event, except);
      ctx.presenceWatch.heard(changes);
      emitPresence(io, changes);
    },
    typing: (event, except) => {
      typingFrames.inc();
      const local = except === undefined ? io.local.to(event.room) : io.local.to(event.room).except(except);
      local.emit('typing', event);
    },
    // A user's connections sit in the Socket.IO room named after their inbox (see Inboxes).
    direct: (inbox, event) => io.local.to(inbox).emit('dm:opened', event),
    resync: () => {
      metrics.feedResyncs.inc();
      feed.resync();
    },
  });
  listening.catch((error: unknown) => logger.error({ err: error }, 'room bus failed to start'));

  const beat = () =>
    deps.presence
      .heartbeat(presenceNode)
      .then(() => deps.presence.sweep())
      .then((swept) => {
        if (swept.nodes === 0) return;
        logger.info(
          { swept: swept.nodes, departed: swept.departed.length },
          'swept members of dead gateways',
        );
        // Their users' last connections went with them: the rooms hear they left, as after any last leave.
        for (const { room, user } of swept.departed)
          ctx.presenceAnnouncer.announce({ room, user, state: 'left' });
      })
      .catch((error: unknown) =>
        logger.warn({ err: { message: (error as Error).message } }, 'heartbeat failed'),
      );
  void beat();
  const heartbeat = setInterval(beat, HEARTBEAT_INTERVAL_MS);
  heartbeat.unref();

  logger.info({ mode: deps.mode }, 'gateway created');

  let closing: Promise<void> | undefined;

  async function drainAndClose(drain: DrainOptions): Promise<void> {
    draining = true;
    clearInterval(heartbeat);
    readiness.stop();
    rebalancer?.stop();
    slowConsumers.stop();
    addressLimiter.stop();
    ctx.presenceAnnouncer.close();
    typing.close();
    void reporter.reportNow();
    const { noticeMs = 0, batchSize = 200, batchIntervalMs = 0, inflightTimeoutMs = 5_000 } = drain;
    logger.info({ connections: io.of('/').sockets.size + plain.size(), noticeMs }, 'draining');
    if (noticeMs > 0) await sleep(noticeMs);

    // Sends already accepted finish, and their acks go out, before anyone is moved; new ones are refused
    // (UNAVAILABLE), to be retried on the gateway the client moves to.
    stopping = true;
    if (!(await inflight.idle(inflightTimeoutMs))) {
      logger.warn({ inflight: inflight.count }, 'drain deadline passed with sends in flight');
    }
    // The acks of those sends are written a few microtasks after they settle: let them out first.
    await new Promise((resolve) => setImmediate(resolve));

    // Close transports, not sockets: "transport close" makes clients reconnect (with their own jitter),
    // through the load balancer to a gateway that is still ready; a server-side disconnect would not.
    const sockets = [...io.of('/').sockets.values()];
    for (let i = 0; i < sockets.length; i += batchSize) {
      for (const socket of sockets.slice(i, i + batchSize)) socket.conn.close();
      if (batchIntervalMs > 0 && i + batchSize < sockets.length) await sleep(batchIntervalMs);
    }
    plain.close();
    await new Promise<void>((resolve) => io.close(() => resolve()));
    httpServer.off('request', app);
    feed.close();
    await reporter.stop();
    const removed = await deps.presence.removeNode(presenceNode).catch((error: unknown) => {
      logger.warn({ err: { message: (error as Error).message } }, 'could not remove presence on close');
      return undefined;
    });
    // Memberships whose leave had not happened yet: their rooms hear the users left all the same, a frame a room.
    const departed = new Map<string, AnnouncedPresence[]>();
    for (const { room, user } of removed?.departed ?? []) {
      const changes = departed.get(room) ?? departed.set(room, []).get(room)!;
      changes.push({ event: { room, user, state: 'left' } });
    }
    for (const changes of departed.values()) deps.bus.publishPresence(changes).catch(() => {});
    logger.info('gateway closed');
  }

  return {
    io,
    nodeId: options.nodeId,
    get draining() {
      return draining;
    },
    close(drain = {}) {
      closing ??= drainAndClose(drain);
      return closing;
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
