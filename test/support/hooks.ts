import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
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
  readonly redis: RedisHandle;
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
  afterEach(async () => {
    closeAllClients();
    closeHostileClients();
    await closeAllClusters();
  });

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
export function useCluster(options: Omit<ClusterOptions, 'redisUrl'> = {}): ClusterHandle {
  const redis = useRedis();
  let current: TestCluster | undefined;

  beforeEach(async () => {
    current = undefined;
    current = await startCluster({ ...options, redisUrl: redis.url });
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
    redis,
  };
}
