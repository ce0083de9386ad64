import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger';
import type { GatewayMetrics } from '../metrics/metrics';

/** Redis could not be reached at start-up; the message is one line, safe to show (no password). */
export class RedisStartupError extends Error {
  override name = 'RedisStartupError';
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
}

/**
 * Opens a Redis connection and waits until it is ready. After that it reconnects by itself (backing off up to
 * 2 s) and never throws into the process: errors are logged, once per outage.
 */
export async function connectRedis(url: string, options: ConnectRedisOptions): Promise<Redis> {
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
  const client = new Redis(url, redisOptions);
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
    await client.connect();
  } catch (error) {
    client.disconnect();
    // connect() itself only rejects with "Connection is closed."; the socket error before it says why.
    const cause = lastError ?? (error as NodeJS.ErrnoException);
    const reason = cause.code ?? cause.message;
    throw new RedisStartupError(`cannot connect to Redis at ${redisTarget(url)} (${reason})`);
  }
  return client;
}

/**
 * Pings `client` every `intervalMs`; a ping that gets no answer within `timeoutMs` means the link is half-dead
 * (nothing errors, nothing arrives), and the connection is dropped so that ioredis reconnects. Returns a stop
 * function.
 */
export function watchConnection(
  client: Redis,
  options: { role: string; logger: Logger; intervalMs?: number; timeoutMs?: number },
): () => void {
  const intervalMs = options.intervalMs ?? 2_000;
  const timeoutMs = options.timeoutMs ?? 2_000;
  let probing = false;
  const timer = setInterval(() => {
    if (probing || client.status !== 'ready') return;
    probing = true;
    let timeout: NodeJS.Timeout | undefined;
    const expired = new Promise<'timeout'>((resolve) => {
      timeout = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    Promise.race([client.ping().catch(() => 'error' as const), expired])
      .then((outcome) => {
        if (outcome === 'timeout' && client.status === 'ready') {
          options.logger.warn({ redis: options.role, timeoutMs }, 'redis link unresponsive, reconnecting');
          client.disconnect(true);
        }
      })
      .finally(() => {
        clearTimeout(timeout);
        probing = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
