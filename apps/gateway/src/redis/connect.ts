import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger';
import type { GatewayMetrics } from '../metrics/metrics';

/** Redis could not be reached at start-up; the message is one line, safe to show (no password). */
export class RedisStartupError extends Error {
  override name = 'RedisStartupError';
}

/** A connection to a single Redis, or to a Redis Cluster: the stores use what both offer. */
export type RedisClient = Redis | Cluster;

/** Where the gateways keep their shared state: one Redis (`REDIS_URL`) or a Redis Cluster (`REDIS_CLUSTER_NODES`). */
export type RedisTarget = { url: string } | { clusterNodes: readonly string[] };

/** Where a target points, without credentials, for messages and logs. */
export function describeTarget(target: RedisTarget): string {
  return 'url' in target ? redisTarget(target.url) : `the Redis Cluster at ${target.clusterNodes.join(',')}`;
}

/** Where a Redis URL points, without credentials, for messages and logs. */
export function redisTarget(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '6379'}`;
  } catch {
    return 'the configured address';
  }
}

export interface ConnectRedisOptions {
  /** Connection role, for logs and metrics: `commands` or `subscriber` (the room bus). */
  role: string;
  logger: Logger;
  /**
   * Queue commands while disconnected (true for pub/sub clients, which must resubscribe) or fail them at once
   * (false for the commands client, so a send during an outage is answered `UNAVAILABLE` right away).
   */
  offlineQueue: boolean;
  /** How long the first connection may take. */
  connectTimeoutMs?: number;
  /** Counts the connection's error events and reconnect attempts by role. */
  metrics?: Pick<GatewayMetrics, 'redisErrors' | 'redisReconnects'> | undefined;
  /**
   * On a Redis Cluster, route `SSUBSCRIBE` to a connection per shard (the room bus's subscriber). Ignored for a
   * single Redis, where one connection subscribes to every channel.
   */
  shardedSubscriber?: boolean;
}

/**
 * Opens a Redis connection and waits until it is ready. After that it reconnects by itself (backing off up to
 * 2 s) and never throws into the process: errors are logged, once per outage.
 */
export async function connectRedis(target: RedisTarget, options: ConnectRedisOptions): Promise<RedisClient> {
  const log = options.logger.child({ redis: options.role });
  const redisOptions: RedisOptions = {
    lazyConnect: true,
    connectionName: `chorus-${options.role}`,
    enableOfflineQueue: options.offlineQueue,
    maxRetriesPerRequest: options.offlineQueue ? null : 1,
    commandTimeout: options.offlineQueue ? undefined : 3_000,
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
  };
  const client: RedisClient =
    'url' in target
      ? new Redis(target.url, redisOptions)
      : new Cluster(target.clusterNodes.map(parseNode), clusterOptions(redisOptions, options));
  let down = false;
  let lastError: NodeJS.ErrnoException | undefined;
  client.on('error', (error: Error) => {
    lastError = error;
    if (!down) log.warn({ err: { message: error.message } }, 'redis connection error');
    down = true;
  });
  client.on('ready', () => {
    if (down) log.info('redis connection restored');
    down = false;
  });
  const { metrics, role } = options;
  if (metrics) {
    // Start the series at 0, so rate() sees the first error.
    metrics.redisErrors.inc({ role }, 0);
    metrics.redisReconnects.inc({ role }, 0);
    client.on('error', () => metrics.redisErrors.inc({ role }));
    client.on('reconnecting', () => metrics.redisReconnects.inc({ role }));
  }
  try {
    if (client instanceof Cluster) await clusterReady(client, options.connectTimeoutMs ?? 5_000);
    else await client.connect();
  } catch (error) {
    client.disconnect();
    // connect() itself only rejects with "Connection is closed."; the socket error before it says why.
    const cause = lastError ?? (error as NodeJS.ErrnoException);
    const reason = cause.code ?? cause.message;
    const where = 'url' in target ? `Redis at ${redisTarget(target.url)}` : describeTarget(target);
    throw new RedisStartupError(`cannot connect to ${where} (${reason})`);
  }
  return client;
}

/**
 * Waits until a Cluster is ready. Its own `connect()` promise can stay pending when the first ready check
 * fails and the cluster reconnects (it then gets ready a moment later), so wait for the state instead.
 */
async function clusterReady(cluster: Cluster, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onReady: (() => void) | undefined;
  try {
    await Promise.race([
      new Promise<void>((resolve) => {
        onReady = resolve;
        cluster.once('ready', resolve);
        cluster.connect().catch(() => {});
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the cluster did not become ready in time')), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onReady) cluster.off('ready', onReady);
  }
}

/** `host:port` → what ioredis' `Cluster` takes as a seed node. */
function parseNode(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
}

function nodeOptions(options: RedisOptions): ClusterOptions['redisOptions'] {
  const { retryStrategy: _ignored, enableOfflineQueue: _alsoIgnored, ...rest } = options;
  return rest;
}

// A Cluster keeps one connection per node, with the same per-connection options as a single Redis. While a
// master fails over, its slots answer CLUSTERDOWN or nothing: commands that may wait (subscriptions) are
// retried until the replica took over; commands that must not (sends) fail fast and the client retries.
function clusterOptions(redisOptions: RedisOptions, options: ConnectRedisOptions): ClusterOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: options.offlineQueue,
    shardedSubscribers: options.shardedSubscriber ?? false,
    scaleReads: 'master',
    maxRedirections: 16,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: 2_000,
    clusterRetryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
    // A node's dropped connection is recreated from the slot map (MOVED, or the periodic refresh).
    redisOptions: { ...nodeOptions(redisOptions), lazyConnect: false },
  };
}

/**
 * Pings every connection of `client` (each node's, on a Redis Cluster) every `intervalMs`, unless it received
 * something in the last half of that. A connection that answers nothing at all for `timeoutMs` (neither the
 * ping nor anything else) is half-dead: nothing errors, nothing arrives. It is dropped so that ioredis
 * reconnects. A connection that is slow because it is busy is not dropped: it is judged by its own traffic, not
 * by the event loop's delay (a blocked loop reads the pending replies before the verdict). Returns a stop
 * function.
 */
export function watchConnection(
  client: RedisClient,
  options: { role: string; logger: Logger; intervalMs?: number; timeoutMs?: number },
): () => void {
  const intervalMs = options.intervalMs ?? 2_000;
  const timeoutMs = options.timeoutMs ?? 2_000;
  const probing = new WeakSet<Redis>();
  const check = (connection: Redis) => {
    if (probing.has(connection) || connection.status !== 'ready') return;
    probing.add(connection);
    const sent = Date.now();
    let answered = false;
    connection.ping().then(
      () => (answered = true),
      () => (answered = true),
    );
    setTimeout(() => {
      // Let the poll phase read whatever arrived while the loop was busy before judging.
      setImmediate(() => {
        probing.delete(connection);
        if (answered || connection.status !== 'ready') return;
        if ((lastTraffic.get(connection) ?? 0) >= sent) return;
        options.logger.warn({ redis: options.role, timeoutMs }, 'redis link unresponsive, reconnecting');
        connection.disconnect(true);
      });
    }, timeoutMs).unref();
  };
  const timer = setInterval(() => {
    const connections = client instanceof Cluster ? client.nodes('all') : [client];
    for (const connection of connections) {
      watchTraffic(connection);
      // A link that carried a reply or a push since the last look is alive as of then: a ping would prove no more
      // (the bus probe keeps both connections busy every second, so an idle gateway does not ping as well).
      if (!heardWithin(connection, intervalMs / 2)) check(connection);
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** When each watched connection last received bytes. */
const lastTraffic = new WeakMap<Redis, number>();
const watchedStreams = new WeakSet<object>();

/** Whether `connection` received bytes in the last `ms` (false until a watchdog watches it). */
export function heardWithin(connection: Redis, ms: number): boolean {
  return Date.now() - (lastTraffic.get(connection) ?? 0) < ms;
}

function watchTraffic(connection: Redis): void {
  const stream = (connection as unknown as { stream?: NodeJS.EventEmitter }).stream;
  if (!stream || watchedStreams.has(stream)) return;
  watchedStreams.add(stream);
  stream.on('data', () => lastTraffic.set(connection, Date.now()));
}
