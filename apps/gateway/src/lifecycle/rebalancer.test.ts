import type { NodeReport } from '@chorus/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, sleep } from '../../../../test/support/wait';
import { MemoryClusterStats } from '../admin/cluster-stats.memory';
import { connectionSpread, type Rebalancer, startRebalancer } from './rebalancer';

const running: Rebalancer[] = [];
afterEach(() => {
  for (const r of running.splice(0)) r.stop();
});

const report = (node: string, connections: number, draining = false): NodeReport => ({
  node,
  connections,
  rooms: 0,
  messagesInPerSec: 0,
  messagesOutPerSec: 0,
  startedAt: 0,
  reportedAt: Date.now(),
  draining,
});

/** A gateway `me` with `mine` connections among the others' reports; records what it sheds. */
async function gatewayAmong(mine: number, others: NodeReport[]) {
  const stats = new MemoryClusterStats();
  for (const r of [report('me', mine), ...others]) await stats.report(r);
  let connections = mine;
  const shed: number[] = [];
  let spread = -1;
  running.push(
    startRebalancer({
      nodeId: 'me',
      stats,
      logger: pino({ level: 'silent' }),
      connections: () => connections,
      shed: (count) => {
        shed.push(count);
        connections -= count;
        return count;
      },
      intervalMs: 20,
      perSecond: 200,
      settleMs: 0,
      onSpread: (s) => (spread = s),
    }),
  );
  return { shed, spread: () => spread, connections: () => connections };
}

describe('rebalancing', () => {
  it('measures the spread as the largest distance from the average', () => {
    expect(connectionSpread([])).toBe(0);
    expect(connectionSpread([{ connections: 0 }, { connections: 0 }])).toBe(0);
    expect(connectionSpread([{ connections: 18 }, { connections: 18 }, { connections: 0 }])).toBe(1);
    expect(connectionSpread([{ connections: 14 }, { connections: 12 }, { connections: 10 }])).toBeCloseTo(
      1 / 6,
    );
  });

  it('sheds a full gateway down to the average, at most the rate allows per look', async () => {
    const g = await gatewayAmong(60, [report('a', 10), report('b', 20)]);
    // Average 30: 30 to move, 4 per look (200/s every 20 ms).
    await eventually(() => expect(g.connections()).toBeLessThanOrEqual(36));
    expect(Math.max(...g.shed)).toBe(4);
    expect(g.spread()).toBeGreaterThan(0.2);
  });

  it('sheds when another gateway is too empty even if this one is within the tolerance', async () => {
    const g = await gatewayAmong(14, [report('a', 14), report('b', 8)]);
    await eventually(() => expect(g.shed.length).toBeGreaterThan(0));
    expect(g.shed[0]).toBe(2);
  });

  it('leaves a cluster within the tolerance alone, and ignores draining gateways', async () => {
    const even = await gatewayAmong(13, [report('a', 12), report('b', 11)]);
    const draining = await gatewayAmong(10, [report('a', 10), report('old', 40, true)]);
    await sleep(150);
    expect(even.shed).toEqual([]);
    expect(draining.shed).toEqual([]);
  });
});
