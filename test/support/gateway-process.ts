import { type Exit, type GatewayProcess, spawnGateway } from './process';
import { uniquePrefix } from './redis';

/** One gateway of a process cluster: a real `tsx apps/gateway/src/main.ts`, so a kill -9 is a real one. */
export interface ProcessGateway {
  nodeId: string;
  url: string;
  port: number;
  process: GatewayProcess;
  /** SIGKILL to the gateway's whole process group (tsx and the node process it runs); resolves on exit. */
  kill9(): Promise<Exit>;
  /** SIGTERM (a graceful drain); resolves on exit. */
  sigterm(timeoutMs?: number): Promise<Exit>;
  /** Whether the process is still running. */
  alive(): boolean;
}

export interface ProcessCluster {
  gateways: ProcessGateway[];
  prefix: string;
  /** `REDIS_URL`, or `REDIS_CLUSTER_NODES` prefixed with `cluster:`. */
  redisUrl: string;
  /** Kills every gateway of this cluster still running; calling it again waits for the same stop. */
  close(): Promise<void>;
}

export interface ProcessClusterOptions {
  /** A Redis URL, or `cluster:host:port,host:port,…` for the seed nodes of a Redis Cluster. */
  redisUrl: string;
  /** How many gateways (default 3), named gw-1 … gw-N. */
  gateways?: number;
  /** Key prefix; default a fresh one per cluster. */
  prefix?: string;
  /** More environment for every gateway, e.g. `{ HISTORY_CAP: '100', RATE_LIMIT_PER_SECOND: '1000' }`. */
  env?: Record<string, string>;
  /** How long each gateway may take to log `chorus listening` (default 20 s). */
  startTimeoutMs?: number;
}

const running = new Set<ProcessCluster>();

/**
 * Starts `gateways` gateway processes on port 0 sharing one Redis and key prefix, and waits until each logs
 * `chorus listening`. Every cluster is recorded for `closeAllProcessClusters` as soon as its first process
 * is spawned, so a failed start is cleaned up too.
 */
export async function startProcessCluster(options: ProcessClusterOptions): Promise<ProcessCluster> {
  const prefix = options.prefix ?? uniquePrefix('proc');
  const gateways: ProcessGateway[] = [];
  const spawned: GatewayProcess[] = [];
  let closing: Promise<void> | undefined;
  const cluster: ProcessCluster = {
    gateways,
    prefix,
    redisUrl: options.redisUrl,
    close: () => {
      running.delete(cluster);
      closing ??= Promise.all(spawned.map((proc) => killGroup(proc))).then(() => {});
      return closing;
    },
  };
  running.add(cluster);

  const count = options.gateways ?? 3;
  const procs = Array.from({ length: count }, (_, i) => {
    const proc = spawnGateway({
      LOG_LEVEL: 'info',
      ...options.env,
      ...(options.redisUrl.startsWith('cluster:')
        ? { REDIS_CLUSTER_NODES: options.redisUrl.slice('cluster:'.length) }
        : { REDIS_URL: options.redisUrl }),
      REDIS_PREFIX: prefix,
      NODE_ID: `gw-${i + 1}`,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_FORMAT: 'json',
    });
    spawned.push(proc);
    return proc;
  });
  // Started together (tsx start-up dominates), listed in order.
  const ports = await Promise.all(procs.map((proc) => listeningPort(proc, options.startTimeoutMs ?? 20_000)));
  procs.forEach((proc, i) => {
    const port = ports[i]!;
    gateways.push({
      nodeId: `gw-${i + 1}`,
      port,
      url: `http://127.0.0.1:${port}`,
      process: proc,
      kill9: () => killGroup(proc),
      sigterm: async (timeoutMs = 15_000) => {
        proc.signal('SIGTERM');
        return proc.exit(timeoutMs);
      },
      alive: () => proc.child.exitCode === null && proc.child.signalCode === null,
    });
  });
  return cluster;
}

/** Kills every process cluster still running; call from afterEach (and afterAll, for a failed beforeAll). */
export async function closeAllProcessClusters(): Promise<void> {
  await Promise.all([...running].map((cluster) => cluster.close()));
}

async function listeningPort(proc: GatewayProcess, timeoutMs: number): Promise<number> {
  const line = await proc.waitForLog((l) => String(l.msg).startsWith('chorus listening'), timeoutMs);
  if (typeof line.port !== 'number')
    throw new Error(`no port in the listening line: ${JSON.stringify(line)}`);
  return line.port;
}

async function killGroup(proc: GatewayProcess): Promise<Exit> {
  const { pid } = proc.child;
  // The whole group, even when tsx itself is gone: the node process it ran may outlive it.
  if (pid !== undefined) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
    return { code: proc.child.exitCode, signal: proc.child.signalCode };
  }
  return proc.exit(5_000).catch(() => ({ code: null, signal: 'SIGKILL' as const }));
}
