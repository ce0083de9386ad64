import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  canListen,
  ephemeralLow,
  freePort,
  type LineSink,
  launch,
  type ManagedProcess,
  waitFor,
} from './process';

const run = promisify(execFile);

/** One `redis-server --cluster-enabled yes` process of a local Redis Cluster. */
export interface ClusterNode {
  readonly port: number;
  /** `127.0.0.1:<port>` */
  readonly address: string;
  running(): boolean;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data folder (it rejoins the cluster from its nodes.conf). */
  start(): Promise<void>;
}

/** A Redis Cluster of local processes: `masters` masters with `replicas` replicas each. */
export interface LocalRedisCluster {
  readonly nodes: readonly ClusterNode[];
  /** `host:port,host:port,…` of every node, the form `REDIS_CLUSTER_NODES` takes. */
  readonly seeds: string;
  /** The node that is master of the slot `key` hashes to, as the cluster sees it now. */
  masterOf(key: string): Promise<ClusterNode>;
  /** Waits until every running node reports `cluster_state:ok` and every running replica is in sync. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Stops every node and deletes their folders. */
  stop(): Promise<void>;
}

export interface LocalRedisClusterOptions {
  /** `redis-server` binary (default: on PATH). */
  server?: string;
  /** `redis-cli` binary (default: on PATH). */
  cli?: string;
  masters?: number;
  replicas?: number;
  /** Append-only persistence with fsync on every write (default false: nothing on disk but nodes.conf). */
  appendOnly?: boolean;
  /** Milliseconds before an unreachable master counts as failed and a replica takes over (default 1000). */
  nodeTimeoutMs?: number;
  onLine?: LineSink;
}

/**
 * Starts a Redis Cluster of local processes and creates it with `redis-cli --cluster create`. Ports are picked
 * below 55535, since each node's cluster bus listens on its port + 10000.
 */
export async function startLocalRedisCluster(
  options: LocalRedisClusterOptions = {},
): Promise<LocalRedisCluster> {
  const server = options.server ?? 'redis-server';
  const cli = options.cli ?? 'redis-cli';
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 1;
  const count = masters * (1 + replicas);
  const root = mkdtempSync(join(tmpdir(), 'chorus-redis-cluster-'));
  const nodes: LocalNode[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const port = await freeClusterPort(nodes.map((n) => n.port));
      const node = new LocalNode(server, port, join(root, String(port)), options);
      nodes.push(node);
      await node.start();
    }
    await run(cli, [
      '--cluster',
      'create',
      ...nodes.map((n) => n.address),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]);
  } catch (error) {
    for (const node of nodes) await node.kill();
    rmSync(root, { recursive: true, force: true });
    throw error;
  }

  const info = async (node: ClusterNode, ...command: string[]) =>
    (await run(cli, ['-p', String(node.port), ...command])).stdout;

  const cluster: LocalRedisCluster = {
    nodes,
    seeds: nodes.map((n) => n.address).join(','),
    async masterOf(key) {
      const live = nodes.find((n) => n.running());
      if (!live) throw new Error('no node of the cluster is running');
      const slot = Number((await info(live, 'CLUSTER', 'KEYSLOT', key)).trim());
      const shards = await info(live, 'CLUSTER', 'SHARDS');
      // `redis-cli` prints nested arrays one value per line; a master's port follows its slot range.
      const lines = shards.split('\n').map((l) => l.trim());
      for (let i = 0; i < lines.length; i++) {
        if (lines[i] !== 'slots') continue;
        const ranges: number[] = [];
        for (let j = i + 1; /^\d+$/.test(lines[j] ?? ''); j++) ranges.push(Number(lines[j]));
        let inShard = false;
        for (let r = 0; r + 1 < ranges.length; r += 2)
          if (slot >= ranges[r]! && slot <= ranges[r + 1]!) inShard = true;
        if (!inShard) continue;
        // The shard's nodes follow; find the master among them.
        let port: number | undefined;
        for (let j = i + 1; j < lines.length && lines[j] !== 'slots'; j++) {
          if (lines[j] === 'port') port = Number(lines[j + 1]);
          if (lines[j] === 'role' && lines[j + 1] === 'master' && port !== undefined) {
            const node = nodes.find((n) => n.port === port);
            if (node) return node;
          }
        }
      }
      throw new Error(`no master found for slot ${slot}`);
    },
    async waitHealthy(timeoutMs = 20_000) {
      await waitFor(
        'the Redis Cluster to report cluster_state:ok on every running node, with its replicas in sync',
        async () => {
          for (const node of nodes) {
            if (!node.running()) continue;
            if (!(await info(node, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return false;
            const replication = await info(node, 'INFO', 'replication');
            if (replication.includes('role:slave') && !replication.includes('master_link_status:up'))
              return false;
          }
          return true;
        },
        { timeoutMs, intervalMs: 100 },
      );
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      rmSync(root, { recursive: true, force: true });
    },
  };
  await cluster.waitHealthy();
  return cluster;
}

class LocalNode implements ClusterNode {
  readonly port: number;
  readonly address: string;
  readonly #server: string;
  readonly #dir: string;
  readonly #options: LocalRedisClusterOptions;
  #proc: ManagedProcess | undefined;

  constructor(server: string, port: number, dir: string, options: LocalRedisClusterOptions) {
    this.port = port;
    this.address = `127.0.0.1:${port}`;
    this.#server = server;
    this.#dir = dir;
    this.#options = options;
  }

  running(): boolean {
    return this.#proc?.running() ?? false;
  }

  async start(): Promise<void> {
    if (this.running()) return;
    mkdirSync(this.#dir, { recursive: true });
    const args = [
      ...['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.#dir],
      ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
      ...['--cluster-node-timeout', String(this.#options.nodeTimeoutMs ?? 1_000)],
      ...['--save', '', '--appendonly', this.#options.appendOnly ? 'yes' : 'no', '--appendfsync', 'always'],
      // A new replica syncs at once instead of waiting 5 s for others to share the transfer.
      ...['--repl-diskless-sync-delay', '0'],
      ...['--daemonize', 'no', '--loglevel', 'warning'],
    ];
    const proc = launch(`redis-${this.port}`, this.#server, args, { onLine: this.#options.onLine });
    this.#proc = proc;
    await waitFor(`redis-server on port ${this.port}`, async () => {
      if (!proc.running()) throw new Error(`redis-server exited:\n${proc.tail()}`);
      return portOpen(this.port);
    });
  }

  async kill(): Promise<void> {
    await this.#proc?.stop('SIGKILL');
  }

  async stop(): Promise<void> {
    await this.#proc?.stop('SIGTERM', 5_000);
  }
}

/**
 * A free port whose cluster bus (port + 10000) is free too, both below the kernel's ephemeral range (see
 * `freePort`: nodes are killed and started again on their ports), not in `taken`.
 */
async function freeClusterPort(taken: number[]): Promise<number> {
  const from = 10_000;
  const span = ephemeralLow() - 10_000 - from;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = await freePort({ from, span });
    if (taken.includes(port) || taken.includes(port + 10_000) || taken.includes(port - 10_000)) continue;
    if (await canListen(port + 10_000)) return port;
  }
  throw new Error('no free port pair for a Redis Cluster node');
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const client = connect({ host: '127.0.0.1', port });
    client.once('connect', () => {
      client.destroy();
      resolve(true);
    });
    client.once('error', () => resolve(false));
  });
}
