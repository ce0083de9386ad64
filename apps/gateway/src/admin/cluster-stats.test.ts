import type { NodeReport } from '@chorus/protocol';
import { describe, expect, it } from 'vitest';
import { useRedis } from '../../../../test/support/hooks';
import { uniquePrefix } from '../../../../test/support/redis';
import { eventually } from '../../../../test/support/wait';
import type { ClusterStats } from './cluster-stats';
import { MemoryClusterStats } from './cluster-stats.memory';
import { RedisClusterStats } from './cluster-stats.redis';

const redis = useRedis();

type Factory = (options: { ttlMs?: number }) => ClusterStats;
const implementations: [string, Factory][] = [
  ['MemoryClusterStats', (o) => new MemoryClusterStats(o)],
  [
    'RedisClusterStats',
    (o) => new RedisClusterStats(redis.connect(), { prefix: uniquePrefix('stats'), ...o }),
  ],
];

function report(node: string, fields: Partial<NodeReport> = {}): NodeReport {
  return {
    node,
    connections: 0,
    rooms: 0,
    messagesInPerSec: 0,
    messagesOutPerSec: 0,
    startedAt: 1_700_000_000_000,
    reportedAt: 1_700_000_001_000,
    draining: false,
    ...fields,
  };
}

describe.each(implementations)('%s', (_name, create) => {
  it('lists the reports of every node, ordered by node', async () => {
    const stats = create({});
    await stats.report(report('gw-2', { connections: 7, messagesInPerSec: 1.5 }));
    await stats.report(report('gw-1', { connections: 3, rooms: 2 }));
    expect(await stats.list()).toEqual([
      report('gw-1', { connections: 3, rooms: 2 }),
      report('gw-2', { connections: 7, messagesInPerSec: 1.5 }),
    ]);
  });

  it("keeps only a node's latest report", async () => {
    const stats = create({});
    await stats.report(report('gw-1', { connections: 3 }));
    await stats.report(report('gw-1', { connections: 4, draining: true }));
    expect(await stats.list()).toEqual([report('gw-1', { connections: 4, draining: true })]);
  });

  it('drops a node that stops cleanly at once', async () => {
    const stats = create({});
    await stats.report(report('gw-1'));
    await stats.report(report('gw-2'));
    await stats.remove('gw-1');
    await stats.remove('never-reported');
    expect((await stats.list()).map((r) => r.node)).toEqual(['gw-2']);
  });

  it('drops a node whose report expired, and lists it again once it reports', async () => {
    const stats = create({ ttlMs: 300 });
    await stats.report(report('dead'));
    await stats.report(report('live'));
    await eventually(
      async () => {
        await stats.report(report('live'));
        expect((await stats.list()).map((r) => r.node)).toEqual(['live']);
      },
      { timeoutMs: 3_000, intervalMs: 50 },
    );
    await stats.report(report('dead'));
    expect((await stats.list()).map((r) => r.node)).toEqual(['dead', 'live']);
  });

  it('lists nothing when no node reported', async () => {
    expect(await create({}).list()).toEqual([]);
  });
});
