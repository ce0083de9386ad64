import { setTimeout as sleep } from 'node:timers/promises';
import { heapFromMetrics } from '../measure/heap';
import { probeSharedRooms } from './probe';
import { type BenchRedis, startRedisCluster, startRedisServer } from './redis-server';
import { type ServerProcess, ServerStartError, startServerProcess } from './server-process';
import type { GatewayHandle, RunningTarget, TargetId, TargetSpec } from './target';
import { TargetSkipped } from './target';
import { randomTag, Teardown } from './teardown';

const GATEWAY = 'apps/gateway/src/main.ts';
const GC_HOOK = './apps/bench/src/targets/gc-on-signal.ts';

/**
 * Gateway settings for the bench. The per-connection limits are lifted because the bench measures what a
 * gateway can carry, not its limiter (the saturation step would otherwise hit RATE_LIMITED first); the
 * gateway-wide back-pressure (MAX_SENDS_IN_FLIGHT) stays as deployed. Rebalancing is off: no-member-gateway and
 * rejoin-storm place clients unevenly on purpose, and the raw bench clients do not reconnect. Logs stay at warn
 * so the CPU read is the chat's, not pino's.
 */
const BENCH_ENV = {
  LOG_LEVEL: 'warn',
  REBALANCE_INTERVAL_MS: '0',
  LOG_FORMAT: 'json',
  RATE_LIMIT_PER_SECOND: '100000',
  RATE_LIMIT_BURST: '100000',
  REQUEST_RATE_PER_SECOND: '100000',
  REQUEST_RATE_BURST: '100000',
  MAX_REQUESTS_IN_FLIGHT: '100000',
  // Every bench client connects from 127.0.0.1.
  MAX_CONNECTIONS_PER_ADDRESS: '1000000',
  ADDRESS_SEND_RATE: '1000000',
  ADDRESS_SEND_BURST: '1000000',
  ADDRESS_NEW_ROOM_RATE: '1000000',
  ADDRESS_NEW_ROOM_BURST: '1000000',
  DRAIN_NOTICE_MS: '0',
  SHUTDOWN_TIMEOUT_MS: '5000',
};

type RedisKind = 'none' | 'server' | 'cluster';

function chorusTarget(id: TargetId, label: string, nodes: number, redis: RedisKind, description: string) {
  return {
    id,
    label,
    description,
    kind: 'chorus',
    start: () => startChorus(id, label, nodes, redis),
  } satisfies TargetSpec;
}

/** `chorus-1`: one embedded gateway, in-memory stores and bus. */
export const chorus1Target = chorusTarget('chorus-1', 'chorus-1', 1, 'none', 'Chorus, one gateway, no Redis');

/** `chorus-1-aa`: an identical second `chorus-1`, so the report shows how far two equal targets differ. */
export const chorus1AaTarget = chorusTarget(
  'chorus-1-aa',
  "chorus-1'",
  1,
  'none',
  'a second, identical chorus-1 (the A/A pair: its difference from chorus-1 is noise)',
);

/** `chorus-3`: three gateways sharing one redis-server. */
export const chorus3Target = chorusTarget(
  'chorus-3',
  'chorus-3',
  3,
  'server',
  'Chorus, 3 gateways on one redis-server',
);

/** `chorus-3-cluster`: three gateways on a Redis Cluster of 3 masters and 3 replicas. */
export const chorus3ClusterTarget = chorusTarget(
  'chorus-3-cluster',
  'chorus-3-cluster',
  3,
  'cluster',
  'Chorus, 3 gateways on a Redis Cluster (3 masters + 3 replicas, REDIS_CLUSTER_NODES)',
);

async function startChorus(
  id: TargetId,
  label: string,
  nodes: number,
  kind: RedisKind,
): Promise<RunningTarget> {
  const teardown = new Teardown();
  try {
    let redis: BenchRedis | undefined;
    if (kind === 'server') redis = await startRedisServer(id);
    if (kind === 'cluster') redis = await startRedisCluster(id);
    if (redis) teardown.add(() => redis.stop());
    const redisEnv: Record<string, string> =
      kind === 'server'
        ? { REDIS_URL: redis!.address }
        : kind === 'cluster'
          ? { REDIS_CLUSTER_NODES: redis!.address }
          : {};
    const prefix = `bench-${id}-${randomTag()}:`;
    let gateways: ServerProcess[];
    try {
      gateways = await teardown.all(
        Array.from({ length: nodes }, (_, i) =>
          startServerProcess({
            name: `${id}/gw-${i + 1}`,
            nodeId: `${id}-gw-${i + 1}`,
            entry: GATEWAY,
            nodeArgs: ['--expose-gc'],
            preload: [GC_HOOK],
            env: { ...BENCH_ENV, ...redisEnv, REDIS_PREFIX: prefix, NODE_ID: `${id}-gw-${i + 1}` },
          }),
        ),
      );
    } catch (error) {
      // The cluster mode is newer than the bench: a gateway that refuses it makes the target a skip, not a crash.
      if (kind === 'cluster' && error instanceof ServerStartError) {
        throw new TargetSkipped(`the gateway did not start with REDIS_CLUSTER_NODES: ${error.reason}`);
      }
      throw error;
    }
    if (kind !== 'none') {
      const mode = await readyMode(gateways[0]!.url);
      if (mode === 'memory') {
        const setting = kind === 'cluster' ? 'REDIS_CLUSTER_NODES' : 'REDIS_URL';
        throw new TargetSkipped(`the gateway ignored ${setting} and started in memory mode`);
      }
    }
    const handles: GatewayHandle[] = gateways.map((g) => ({
      name: g.name,
      url: g.url,
      pid: g.pid,
      forcesGc: true,
      async heapBytes() {
        process.kill(g.pid, 'SIGUSR2');
        // The collection runs on the gateway's event loop before it serves the scrape that follows.
        await sleep(100);
        return heapFromMetrics(g.url);
      },
    }));
    const problem = await probeSharedRooms(handles);
    if (problem) throw new TargetSkipped(problem);
    return {
      id,
      label,
      gateways: handles,
      processes: [
        ...gateways.map((g) => ({ name: g.name, role: 'gateway' as const, pid: g.pid })),
        ...(redis?.processes ?? []),
      ],
      stop: () => teardown.run(),
    };
  } catch (error) {
    await teardown.run();
    throw error;
  }
}

/** The `mode` a gateway's `/readyz` reports (`memory`, `redis`, …), or undefined. */
async function readyMode(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
    return ((await response.json()) as { mode?: string }).mode;
  } catch {
    return undefined;
  }
}
