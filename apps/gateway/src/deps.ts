import { Cluster } from 'ioredis';
import type { ClusterStats } from './admin/cluster-stats';
import { MemoryClusterStats } from './admin/cluster-stats.memory';
import { RedisClusterStats } from './admin/cluster-stats.redis';
import type { SharedSecretStore } from './auth/shared-secret';
import { MemorySharedSecret } from './auth/shared-secret.memory';
import { RedisSharedSecret } from './auth/shared-secret.redis';
import type { RoomBus } from './bus/room-bus';
import { MemoryRoomBus } from './bus/room-bus.memory';
import { RedisRoomBus } from './bus/room-bus.redis';
import type { MessageStore } from './chat/message-store';
import { MemoryMessageStore } from './chat/message-store.memory';
import { RedisMessageStore } from './chat/message-store.redis';
import type { AddressLimitStore } from './limits/address-limits';
import { MemoryAddressLimitStore } from './limits/address-limits.memory';
import { RedisAddressLimitStore } from './limits/address-limits.redis';
import type { Logger } from './logger';
import type { GatewayMetrics } from './metrics/metrics';
import {
  connectRedis,
  heardWithin,
  type RedisClient,
  type RedisTarget,
  watchConnection,
} from './redis/connect';
import type { PresenceStore } from './rooms/presence-store';
import { MemoryPresenceStore } from './rooms/presence-store.memory';
import { RedisPresenceStore } from './rooms/presence-store.redis';

/** What a gateway needs from the outside: its stores, the room bus, and a readiness probe. */
export interface GatewayDeps {
  mode: 'memory' | 'redis';
  messages: MessageStore;
  /** Room-scoped fan-out: how this gateway hears the rooms it hosts members of. */
  bus: RoomBus;
  presence: PresenceStore;
  /** Per-client-address limits (connections, sends, new rooms), shared by the cluster. */
  addressLimits: AddressLimitStore;
  /** What each gateway reports about its load, for the cluster page; reports of dead gateways expire. */
  stats: ClusterStats;
  /**
   * A secret every gateway of the cluster shares, for signing guest tokens when `SESSION_SECRET` is not set:
   * made up once and kept in Redis (cluster mode), or per process (embedded mode).
   */
  secret: SharedSecretStore;
  /** Resolves when the backing services answer; rejects with the reason otherwise. */
  checkReady(): Promise<void>;
  /** Releases connections; the gateway using these deps must be closed first. */
  close(): Promise<void>;
}

export interface StoreOptions {
  historyCap?: number;
  /** Seconds a room lives after its last message (Redis only: the embedded mode forgets everything on exit). */
  roomTtlSeconds?: number;
}

/** The embedded default: everything in this process. */
export function createMemoryDeps(options: StoreOptions = {}): GatewayDeps {
  const bus = new MemoryRoomBus();
  return {
    mode: 'memory',
    messages: new MemoryMessageStore({ ...options, publish: (message) => bus.publishMessage(message) }),
    bus,
    presence: new MemoryPresenceStore(),
    addressLimits: new MemoryAddressLimitStore(),
    stats: new MemoryClusterStats(),
    secret: new MemorySharedSecret(),
    checkReady: async () => {},
    close: async () => {},
  };
}

export interface RedisDepsOptions extends StoreOptions {
  /** One Redis by URL, or the seed nodes of a Redis Cluster. */
  target: RedisTarget;
  /** Replicas each message must reach before its send is acknowledged, and the longest wait (default none). */
  wait?: { replicas: number; timeoutMs: number };
  /** Prefix of every key and channel; gateways of one chat share it. */
  prefix: string;
  logger: Logger;
  /** Half-dead link detection: ping period and how long a ping may take (defaults 2000 / 2000 ms). */
  watchdog?: { intervalMs?: number; timeoutMs?: number };
  /** Bus liveness probe (defaults 1000 / 5000 ms). */
  feedProbe?: { probeIntervalMs?: number; stallMs?: number };
  /** Where Redis connection errors and reconnects are counted (the gateway's metrics). */
  metrics?: Pick<GatewayMetrics, 'redisErrors' | 'redisReconnects'>;
}

/** How recent a reply on the commands connection stands in for the readiness check's ping. */
const READY_HEARD_MS = 1_000;

/**
 * The cluster mode: stores in Redis, room-scoped fan-out through Redis sharded pub/sub. Opens two connections:
 * commands, and the bus subscriber.
 * Throws `RedisStartupError` when Redis cannot be reached.
 */
export async function createRedisDeps(options: RedisDepsOptions): Promise<GatewayDeps> {
  const { target, logger } = options;
  const opened: RedisClient[] = [];
  const roles = new Map<RedisClient, string>();
  const watchdogs: (() => void)[] = [];
  const open = async (role: string, offlineQueue: boolean, shardedSubscriber = false) => {
    const client = await connectRedis(target, {
      role,
      logger,
      offlineQueue,
      shardedSubscriber,
      metrics: options.metrics,
    });
    opened.push(client);
    roles.set(client, role);
    watchdogs.push(watchConnection(client, { role, logger, ...options.watchdog }));
    return client;
  };
  try {
    const commands = await open('commands', false);
    const subscriber = await open('subscriber', true, true);
    const messages = new RedisMessageStore(commands, {
      prefix: options.prefix,
      historyCap: options.historyCap,
      roomTtlSeconds: options.roomTtlSeconds,
      waitReplicas: options.wait?.replicas,
      waitTimeoutMs: options.wait?.timeoutMs,
    });
    const bus = new RedisRoomBus(commands, subscriber, { prefix: options.prefix, ...options.feedProbe });
    return {
      mode: 'redis',
      messages,
      bus,
      presence: new RedisPresenceStore(commands, { prefix: options.prefix }),
      stats: new RedisClusterStats(commands, { prefix: options.prefix }),
      addressLimits: new RedisAddressLimitStore(commands, { prefix: options.prefix }),
      secret: new RedisSharedSecret(commands, { prefix: options.prefix }),
      checkReady: async () => {
        for (const client of opened) {
          if (client.status !== 'ready')
            throw new Error(`redis ${roles.get(client)} connection is ${client.status}`);
        }
        // A reply in the last second (the bus probe's, at least) already shows Redis answering.
        if (commands instanceof Cluster || !heardWithin(commands, READY_HEARD_MS)) await commands.ping();
        if (!bus.healthy()) throw new Error('message feed is not delivering');
      },
      close: async () => {
        for (const stop of watchdogs) stop();
        bus.close();
        // QUIT lets Redis finish what was sent; a dead link must not hold the shutdown, so wait at most 1 s.
        const quits = Promise.allSettled(opened.map((client) => client.quit()));
        await Promise.race([quits, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
        for (const client of opened) client.disconnect();
      },
    };
  } catch (error) {
    for (const stop of watchdogs) stop();
    for (const client of opened) client.disconnect();
    throw error;
  }
}
