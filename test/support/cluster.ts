import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pino } from 'pino';
import type { AuthOptions } from '../../apps/gateway/src/auth/authenticator';
import { createMemoryDeps, createRedisDeps, type GatewayDeps } from '../../apps/gateway/src/deps';
import { createGateway, type Gateway } from '../../apps/gateway/src/gateway';
import type { AddressLimits } from '../../apps/gateway/src/limits/address-limiter';
import type { RequestLimits } from '../../apps/gateway/src/limits/request-budget';

const GENEROUS_ADDRESS_LIMITS: AddressLimits = {
  maxConnections: 100_000,
  sends: { perSecond: 100_000, burst: 100_000 },
  newRooms: { perSecond: 100_000, burst: 100_000 },
};

import type { Logger } from '../../apps/gateway/src/logger';
import { createMetrics, type GatewayMetrics } from '../../apps/gateway/src/metrics/metrics';
import { freePort } from './ports';
import { uniquePrefix } from './redis';

/** One running gateway of a test cluster. */
export interface TestGateway {
  nodeId: string;
  url: string;
  port: number;
  gateway: Gateway;
  deps: GatewayDeps;
  /** The gateway's metrics (also served at `/metrics`), counting its Redis connections too. */
  metrics: GatewayMetrics;
  server: HttpServer;
  /** Graceful stop: the gateway, then its Redis connections. */
  stop(): Promise<void>;
  /**
   * Like a kill -9 seen from outside: Redis links drop first (so nothing more reaches Redis), then every client
   * connection (WebSocket and long-polling alike) is cut; nothing is cleaned up.
   */
  crash(): Promise<void>;
}

export interface TestCluster {
  gateways: TestGateway[];
  prefix: string;
  /**
   * Starts one more gateway on the same Redis and prefix (as `nodeId`: a restart under the same name), on `port`
   * when given (a restart where a balancer expects it).
   */
  addGateway(nodeId?: string, port?: number): Promise<TestGateway>;
  /** Stops every gateway; calling it again waits for the same stop. */
  close(): Promise<void>;
}

export interface ClusterOptions {
  /** Redis URL; omitted (with `redisClusterNodes`) means the embedded in-memory mode (one gateway). */
  redisUrl?: string;
  /** Seed nodes of a Redis Cluster to run on instead of `redisUrl`. */
  redisClusterNodes?: readonly string[];
  gateways?: number;
  prefix?: string;
  historyCap?: number;
  rateLimit?: { perSecond: number; burst: number };
  /** Request budget per Socket.IO connection; the product default when omitted. */
  requestLimits?: RequestLimits;
  allowedOrigins?: string[];
  /** `PUBLIC_URL` and `ALLOWED_HOSTS` of the gateways. */
  publicUrl?: string;
  allowedHosts?: string[];
  webRoot?: string;
  /** Per-gateway Redis URL (e.g. through a fault-injecting proxy), by gateway index; falls back to `redisUrl`. */
  redisUrlFor?: (index: number) => string | undefined;
  /** Faster failure detection for fault tests. */
  watchdog?: { intervalMs?: number; timeoutMs?: number };
  feedProbe?: { probeIntervalMs?: number; stallMs?: number };
  /** Bearer token of the admin API (`/admin`); omitted means none (404). */
  adminToken?: string;
  /** How long Redis may be in trouble before `/readyz` turns 503 (product default 10 s). */
  readinessGraceMs?: number;
  /**
   * Per-address limits; generous unless given, since every test client connects from 127.0.0.1 (the product
   * defaults would make one test's many clients one heavy user).
   */
  addressLimits?: AddressLimits;
  /** Unsent bytes before a connection is closed as a slow consumer (product default 4 MiB). */
  maxBufferedBytes?: number;
  /** Sends one gateway may have waiting on Redis (product default 2000). */
  maxSendsInFlight?: number;
  /** Connection rebalancing; off unless given, so tests' lopsided clusters are left as they are. */
  rebalance?: { intervalMs?: number; perSecond?: number; tolerance?: number };
  /** Identity: JWT settings, guests, `SESSION_SECRET` (product defaults: guests only, a shared secret in Redis). */
  auth?: AuthOptions;
  /** `API_KEY` of the server API; omitted means none (404). */
  apiKey?: string;
  /**
   * Gateways listen on ports below the kernel's ephemeral range (see `freePort`), so one that crashed can start
   * again on its own port; otherwise on any free port.
   */
  restartablePorts?: boolean;
}

/** Logs of gateways under test: silent unless TEST_LOG_LEVEL is set. */
export function testLogger(): Logger {
  return pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
}

/** Every cluster started and not yet closed, so `closeAllClusters` can stop what a test left running. */
const running = new Set<TestCluster>();

/** Called with every cluster `startCluster` starts from now on, until the returned function is called. */
export function onClusterStarted(listener: (cluster: TestCluster) => void): () => void {
  for (const cluster of running) listener(cluster);
  startListeners.add(listener);
  return () => startListeners.delete(listener);
}
const startListeners = new Set<(cluster: TestCluster) => void>();

/** Closes every cluster `startCluster` started and that is still open; call from afterEach. */
export async function closeAllClusters(): Promise<void> {
  await Promise.all([...running].map((cluster) => cluster.close()));
}

/**
 * Starts `gateways` gateways on port 0 sharing one Redis and one key prefix, like production nodes. The cluster
 * is recorded for `closeAllClusters` (from its first gateway on, so a failed start is cleaned up too).
 */
export async function startCluster(options: ClusterOptions = {}): Promise<TestCluster> {
  const prefix = options.prefix ?? uniquePrefix('cluster');
  const logger = testLogger();
  const gateways: TestGateway[] = [];
  let counter = 0;

  const addGateway = async (name?: string, port?: number): Promise<TestGateway> => {
    counter += 1;
    const nodeId = name ?? `gw-${counter}`;
    const nodeLogger = logger.child({ node: nodeId });
    const redisUrl = options.redisUrlFor?.(counter - 1) ?? options.redisUrl;
    const target = options.redisClusterNodes
      ? { clusterNodes: options.redisClusterNodes }
      : redisUrl
        ? { url: redisUrl }
        : undefined;
    // Process metrics are left out: they are per process, and each collection keeps an event-loop monitor.
    const metrics = createMetrics(nodeId, { processMetrics: false });
    const deps = target
      ? await createRedisDeps({
          target,
          prefix,
          logger: nodeLogger,
          historyCap: options.historyCap,
          watchdog: options.watchdog,
          feedProbe: options.feedProbe,
          metrics,
        })
      : createMemoryDeps({ historyCap: options.historyCap });
    const server = createServer();
    // Every TCP connection, upgraded ones included (which Node's closeAllConnections leaves alone), so a crash
    // can cut them all as a killed process would.
    const sockets = new Set<Socket>();
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    const gateway = createGateway(server, deps, {
      nodeId,
      logger: nodeLogger,
      rateLimit: options.rateLimit ?? { perSecond: 1000, burst: 1000 },
      requestLimits: options.requestLimits,
      allowedOrigins: options.allowedOrigins,
      publicUrl: options.publicUrl,
      allowedHosts: options.allowedHosts,
      webRoot: options.webRoot,
      metrics,
      adminToken: options.adminToken,
      readinessGraceMs: options.readinessGraceMs,
      maxSendsInFlight: options.maxSendsInFlight,
      maxBufferedBytes: options.maxBufferedBytes,
      addressLimits: options.addressLimits ?? GENEROUS_ADDRESS_LIMITS,
      rebalance: options.rebalance ?? false,
      auth: options.auth,
      apiKey: options.apiKey,
    });
    const listenOn = port ?? (options.restartablePorts ? await freePort() : 0);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(listenOn, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      await gateway.close();
      await deps.close();
      throw error;
    }
    const listening = (server.address() as AddressInfo).port;
    let stopped = false;
    const node: TestGateway = {
      nodeId,
      port: listening,
      url: `http://127.0.0.1:${listening}`,
      gateway,
      deps,
      metrics,
      server,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await gateway.close();
        await deps.close();
      },
      crash: async () => {
        if (stopped) return;
        stopped = true;
        // Redis first: a killed process says nothing more to it, so the leaves its dropped connections would
        // trigger here must not reach it (they fail and are retried against the closed link, in vain).
        await deps.close();
        for (const socket of sockets) socket.destroy();
        server.close();
      },
    };
    gateways.push(node);
    return node;
  };

  let closing: Promise<void> | undefined;
  const cluster: TestCluster = {
    gateways,
    prefix,
    addGateway,
    close: () => {
      running.delete(cluster);
      closing ??= Promise.all(gateways.map((g) => g.stop())).then(() => {});
      return closing;
    },
  };
  running.add(cluster);
  for (let i = 0; i < (options.gateways ?? 3); i++) await addGateway();
  for (const listener of startListeners) listener(cluster);
  return cluster;
}
