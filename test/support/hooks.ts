import { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { type LocalRedisCluster, startLocalRedisCluster } from '../../scripts/local-cluster/redis-cluster';
import { closeAllClients } from './clients';
import {
  type ClusterOptions,
  closeAllClusters,
  startCluster,
  type TestCluster,
  type TestGateway,
} from './cluster';
import { closeHostileClients } from './hostile-clients';
import { type RedisServerOptions, startTestRedis, type TestRedis } from './redis';

/** Closes every client and cluster a test opened; the hooks run it after each test. */
async function closeTestsLeftovers(): Promise<void> {
  closeAllClients();
  closeHostileClients();
  await closeAllClusters();
}

/** The Redis of a test file; read it inside tests and hooks, once `beforeAll` has started it. */
export interface RedisHandle {
  readonly url: string;
  readonly server: TestRedis;
  /** Opens an ioredis connection to the test Redis; it is disconnected after the file's tests. */
  connect(): Redis;
}

/** The cluster `useCluster` starts for each test, and the Redis it runs on. */
export interface ClusterHandle {
  readonly cluster: TestCluster;
  readonly gateways: TestGateway[];
  /** The single Redis (backend `redis` only: throws on a Redis Cluster). */
  readonly redis: RedisHandle;
  /** Which store the gateways run on. */
  readonly backend: Backend;
  /** Opens a connection to the store, whichever it is; disconnected after the file's tests. */
  connectStore(): Redis | Cluster;
}

/** What the gateways of a test cluster keep their state in. */
export type Backend = 'redis' | 'redis-cluster';
/** Both backends, for suites that must hold on each: `describe.each(BACKENDS)('on %s', (backend) => …)`. */
export const BACKENDS: readonly Backend[] = ['redis', 'redis-cluster'];

/** A local Redis Cluster (3 masters, 3 replicas) for the tests of the enclosing file or describe. */
export interface RedisClusterHandle {
  readonly cluster: LocalRedisCluster;
  readonly seeds: string[];
  /** Opens an ioredis `Cluster` connection; it is disconnected after the file's tests. */
  connect(): Cluster;
}

/**
 * Starts a Redis Cluster of six `redis-server --cluster-enabled yes` processes before the tests of the
 * enclosing file (or describe) and stops it after them; cleans up clients and gateways after each test.
 */
export function useRedisCluster(options: { appendOnly?: boolean } = {}): RedisClusterHandle {
  let cluster: LocalRedisCluster | undefined;
  const connections: Cluster[] = [];
  beforeAll(async () => {
    cluster = await startLocalRedisCluster({ appendOnly: options.appendOnly ?? false });
  }, 60_000);
  afterAll(async () => {
    for (const connection of connections.splice(0)) connection.disconnect();
    await cluster?.stop();
    cluster = undefined;
  });
  afterEach(closeTestsLeftovers);
  const started = (): LocalRedisCluster => {
    if (!cluster)
      throw new Error('useRedisCluster: the cluster is not running; use it inside a test or hook');
    return cluster;
  };
  return {
    get cluster() {
      return started();
    },
    get seeds() {
      return started().seeds.split(',');
    },
    connect: () => {
      const connection = new Cluster(
        started().nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
        { scaleReads: 'master' },
      );
      connections.push(connection);
      return connection;
    },
  };
}

/**
 * Starts a test Redis before the tests of the enclosing file (or describe) and stops it after them. After each
 * test it closes every client the test opened and every cluster started with `startCluster`.
 */
export function useRedis(options: RedisServerOptions = {}): RedisHandle {
  let server: TestRedis | undefined;
  const connections: Redis[] = [];

  beforeAll(async () => {
    server = await startTestRedis(options);
  });
  afterAll(async () => {
    for (const connection of connections.splice(0)) connection.disconnect();
    await server?.stop();
    server = undefined;
  });
  afterEach(closeTestsLeftovers);

  const started = (): TestRedis => {
    if (!server) throw new Error('useRedis: the test Redis is not running; use it inside a test or hook');
    return server;
  };
  return {
    get url() {
      return started().url;
    },
    get server() {
      return started();
    },
    connect: () => {
      const connection = new Redis(started().url);
      connections.push(connection);
      return connection;
    },
  };
}

/**
 * Starts a test Redis (see `useRedis`) and, before each test, a fresh cluster on it with `options`; the
 * cluster is closed after the test.
 */
export function useCluster(
  options: Omit<ClusterOptions, 'redisUrl' | 'redisClusterNodes'> & { backend?: Backend } = {},
): ClusterHandle {
  const { backend = 'redis', ...clusterOptions } = options;
  const redis = backend === 'redis' ? useRedis() : undefined;
  const redisCluster = backend === 'redis-cluster' ? useRedisCluster() : undefined;
  let current: TestCluster | undefined;

  beforeEach(async () => {
    current = undefined;
    current = await startCluster(
      redisCluster
        ? { ...clusterOptions, redisClusterNodes: redisCluster.seeds }
        : { ...clusterOptions, redisUrl: redis!.url },
    );
  });

  const started = (): TestCluster => {
    if (!current) throw new Error('useCluster: no cluster is running; use it inside a test or hook');
    return current;
  };
  return {
    get cluster() {
      return started();
    },
    get gateways() {
      return started().gateways;
    },
    get redis() {
      if (!redis) throw new Error('useCluster: this cluster runs on a Redis Cluster; use connectStore()');
      return redis;
    },
    backend,
    connectStore: () => (redisCluster ? redisCluster.connect() : redis!.connect()),
  };
}
