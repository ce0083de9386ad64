import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, launch, waitFor } from '../../../../scripts/local-cluster/process';
import { startLocalRedisCluster } from '../../../../scripts/local-cluster/redis-cluster';
import { findTool } from '../../../../scripts/local-cluster/tools';
import type { MeasuredProcess } from '../measure/cpu';
import { TargetSkipped } from './target';

const run = promisify(execFile);

/** A Redis the bench started for one target. */
export interface BenchRedis {
  /** `redis://127.0.0.1:<port>` for one server; for a cluster, the `host:port,…` seed list. */
  readonly address: string;
  /** Its processes (one, or every node of a cluster), for CPU. */
  readonly processes: MeasuredProcess[];
  stop(): Promise<void>;
}

/** Path of `name`, or a `TargetSkipped` saying how to install Redis. */
function requireRedisTool(name: 'redis-server' | 'redis-cli'): string {
  const path = findTool(name);
  if (!path)
    throw new TargetSkipped(`${name} is not installed (Debian/Ubuntu: apt-get install redis-server)`);
  return path;
}

/**
 * Starts a private `redis-server` on a free port without persistence: the bench measures fan-out, not disks,
 * and the same server configuration serves the Redis-adapter baseline and Chorus alike.
 */
export async function startRedisServer(target: string): Promise<BenchRedis> {
  const binary = requireRedisTool('redis-server');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'chorus-bench-redis-'));
  const args = [
    ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
    ...['--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'],
  ];
  const proc = launch(`${target}/redis`, binary, args);
  try {
    await waitFor(`redis-server on port ${port}`, async () => {
      if (!proc.running()) throw new Error(`redis-server exited:\n${proc.tail()}`);
      return (await redisPid(port)) !== undefined;
    });
  } catch (error) {
    await proc.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    address: `redis://127.0.0.1:${port}`,
    processes: [{ name: `${target}/redis`, role: 'redis', pid: proc.child.pid! }],
    async stop() {
      await proc.stop('SIGTERM', 5_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts a Redis Cluster of `masters` masters with one replica each (the local-cluster script's starter, which
 * creates it with redis-cli), and finds each node's pid so the CPU of replicas counts too.
 */
export async function startRedisCluster(target: string, masters = 3): Promise<BenchRedis> {
  requireRedisTool('redis-server');
  requireRedisTool('redis-cli');
  const cluster = await startLocalRedisCluster({ masters, replicas: 1 });
  try {
    const processes: MeasuredProcess[] = [];
    for (const node of cluster.nodes) {
      const pid = await redisPid(node.port);
      if (pid === undefined) throw new Error(`Redis Cluster node ${node.address} does not report its pid`);
      // Masters do the work and replicas copy it: the name tells them apart in the per-process CPU.
      const role = (await redisInfo(node.port, 'replication'))?.match(/^role:(\w+)/m)?.[1] ?? 'node';
      processes.push({
        name: `${target}/redis-${node.port}-${role === 'slave' ? 'replica' : role}`,
        role: 'redis',
        pid,
      });
    }
    return { address: cluster.seeds, processes, stop: () => cluster.stop() };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

/** The `process_id` a Redis on `port` reports, or undefined while it does not answer. */
async function redisPid(port: number): Promise<number | undefined> {
  const match = /^process_id:(\d+)/m.exec((await redisInfo(port, 'server')) ?? '');
  return match ? Number(match[1]) : undefined;
}

/** `INFO <section>` of the Redis on `port`, or undefined while it does not answer. */
async function redisInfo(port: number, section: string): Promise<string | undefined> {
  try {
    const cli = requireRedisTool('redis-cli');
    return (await run(cli, ['-p', String(port), 'INFO', section], { timeout: 2_000 })).stdout;
  } catch {
    return undefined;
  }
}
