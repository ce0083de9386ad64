import { describe, expect, it } from 'vitest';
import { RedisPresenceStore } from '../../apps/gateway/src/rooms/presence-store.redis';
import { expectClusterServes } from '../support/bystanders';
import { connectClient } from '../support/clients';
import { useCluster } from '../support/hooks';
import { connectRawSocketIo } from '../support/hostile-clients';
import { useSecurityWatch } from '../support/security-watch';
import { eventually, sleep } from '../support/wait';

const cluster = useCluster({ gateways: 2 });
useSecurityWatch();

/** Puts `count` rooms with one member each (held by gateway 1, which is alive) into the cluster's index. */
async function seedRooms(count: number): Promise<void> {
  const store = new RedisPresenceStore(cluster.redis.connect(), { prefix: cluster.cluster.prefix });
  const node = cluster.gateways[0]!.nodeId;
  const joins: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const room = `seeded-${String(i).padStart(5, '0')}`;
    joins.push(store.join({ room, connId: `seed-${i}`, user: { id: `u-seed-${i}`, name: 'seed' }, node }));
  }
  await Promise.all(joins);
}

/** Sends a message every `everyMs` on its own room and records each ack's latency until stopped. */
async function startBystander(url: string, everyMs = 50) {
  const client = await connectClient(url, { name: 'bystander' });
  await client.ok('room:join', { room: 'bystanding' });
  const latencies: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      await client.ok('message:send', { room: 'bystanding', text: 'still here' });
      latencies.push(performance.now() - started);
      await sleep(everyMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return latencies;
    },
  };
}

describe('the request budget of a connection', () => {
  it('answers a rooms:list flood over 5,000 rooms with RATE_LIMITED, cuts the client off, and nobody else waits', async () => {
    await seedRooms(5_000);
    const bystander = await startBystander(cluster.gateways[1]!.url);
    const attacker = await connectRawSocketIo(cluster.gateways[0]!.url);

    const answers = await Promise.all(
      Array.from({ length: 300 }, () =>
        attacker.request('rooms:list', '{"limit":100}').catch(() => 'no answer' as const),
      ),
    );
    const latencies = await bystander.stop();

    const served = answers.filter((a) => (a as { ok?: boolean }).ok === true) as {
      rooms: unknown[];
      nextCursor: number;
    }[];
    const refused = answers.filter((a) => (a as { ok?: boolean }).ok === false);
    // Defaults: 128 requests in flight at most, a burst of 150, 100 refusals before the cut.
    expect(served.length).toBeGreaterThan(0);
    expect(served.length).toBeLessThanOrEqual(150);
    for (const page of served) {
      expect(page.rooms).toHaveLength(100);
      expect(page.nextCursor).toBe(100);
    }
    expect(refused.length).toBeGreaterThanOrEqual(100);
    expect(refused[0]).toEqual({
      ok: false,
      error: { code: 'RATE_LIMITED', message: expect.any(String), retryAfterMs: expect.any(Number) },
    });
    await eventually(() => expect(attacker.isOpen()).toBe(false));
    expect(latencies.length).toBeGreaterThan(3);
    expect(Math.max(...latencies)).toBeLessThan(1_000);
    await expectClusterServes(cluster);
  });

  it('pages rooms:list busiest first and follows nextCursor to the end', async () => {
    await seedRooms(230);
    const reader = await connectClient(cluster.gateways[1]!.url, { name: 'reader' });
    await reader.ok('room:join', { room: 'busy' });
    const other = await connectClient(cluster.gateways[0]!.url, { name: 'other' });
    await other.ok('room:join', { room: 'busy' });

    const seen: string[] = [];
    let cursor: number | undefined;
    let pages = 0;
    do {
      const page = await reader.ok(
        'rooms:list',
        cursor === undefined ? { limit: 100 } : { cursor, limit: 100 },
      );
      seen.push(...page.rooms.map((r) => `${r.room}:${r.members}`));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(231);
    expect(new Set(seen).size).toBe(231);
    expect(seen[0]).toBe('busy:2');
    expect(seen[1]).toBe('seeded-00000:1');
    expect(seen.at(-1)).toBe('seeded-00229:1');
    // The default page is 50.
    expect((await reader.ok('rooms:list', {})).rooms).toHaveLength(50);
  });
});
