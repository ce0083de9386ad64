import { heapFromRelay } from '../measure/heap';
import { probeSharedRooms } from './probe';
import { type BenchRedis, startRedisServer } from './redis-server';
import { startServerProcess } from './server-process';
import type { RunningTarget, TargetSpec } from './target';
import { TargetSkipped } from './target';
import { randomTag, Teardown } from './teardown';

const RELAY = 'apps/bench/src/baselines/relay.ts';

/** `plain`: one relay process, nothing shared. */
export const plainTarget: TargetSpec = {
  id: 'plain',
  label: 'plain',
  description: 'plain Socket.IO relay, one process, no persistence',
  kind: 'baseline',
  start: () => startRelays('plain', 'plain', 1),
};

/** `classic`: three relay processes on one Redis through `@socket.io/redis-adapter`. */
export const classicTarget: TargetSpec = {
  id: 'classic',
  label: 'classic',
  description: 'the same relay on 3 processes with @socket.io/redis-adapter v8 on one redis-server',
  kind: 'baseline',
  start: () => startRelays('classic', 'classic', 3),
};

async function startRelays(id: 'plain' | 'classic', label: string, nodes: number): Promise<RunningTarget> {
  const teardown = new Teardown();
  try {
    let redis: BenchRedis | undefined;
    if (nodes > 1) {
      redis = await startRedisServer(id);
      teardown.add(() => redis!.stop());
    }
    const prefix = `bench-${id}-${randomTag()}`;
    const relays = await teardown.all(
      Array.from({ length: nodes }, (_, i) =>
        startServerProcess({
          name: `${id}/relay-${i + 1}`,
          nodeId: `${id}-${i + 1}`,
          entry: RELAY,
          nodeArgs: ['--expose-gc'],
          env: {
            NODE_ID: `${id}-${i + 1}`,
            ...(redis ? { REDIS_URL: redis.address, REDIS_PREFIX: prefix } : {}),
          },
        }),
      ),
    );
    const gateways = relays.map((r) => ({
      name: r.name,
      url: r.url,
      pid: r.pid,
      heapBytes: () => heapFromRelay(r.url),
      forcesGc: true,
    }));
    const problem = await probeSharedRooms(gateways);
    if (problem) throw new TargetSkipped(problem);
    return {
      id,
      label,
      gateways,
      processes: [
        ...relays.map((r) => ({ name: r.name, role: 'gateway' as const, pid: r.pid })),
        ...(redis?.processes ?? []),
      ],
      stop: () => teardown.run(),
    };
  } catch (error) {
    await teardown.run();
    throw error;
  }
}
