import { LIMITS } from '@chorus/protocol';
import { describe, expect, it } from 'vitest';
import { expectClusterServes } from '../support/bystanders';
import { connectClient } from '../support/clients';
import { useCluster } from '../support/hooks';
import { useSecurityWatch } from '../support/security-watch';

const cluster = useCluster({ gateways: 2 });
useSecurityWatch();

/** Bytes of an answer as it goes on the wire (its JSON in UTF-8). */
const wireBytes = (answer: unknown) => Buffer.byteLength(JSON.stringify(answer));

// 4,000 CJK characters: the longest legal text, 12 KB in UTF-8. A hundred of them are 1.2 MB.
const LONG = '語'.repeat(LIMITS.textMax);
const ONE_MIB = 1024 * 1024;

describe('answers are capped at 1 MiB, whatever is asked', () => {
  it('answers a resume from far back recovered:false and a full history page with fewer messages', async () => {
    expect(LIMITS.maxAnswerBytes).toBe(ONE_MIB);
    const [a, b] = cluster.gateways;
    const writer = await connectClient(a!.url, { name: 'writer' });
    const { epoch } = await writer.ok('room:join', { room: 'long' });
    for (let i = 0; i < 100; i++) await writer.ok('message:send', { room: 'long', text: LONG });

    const reader = await connectClient(b!.url, { name: 'reader' });
    // 76 bytes that would ask for 1.2 MB of history.
    const resumed = await reader.ok('room:join', { room: 'long', since: { epoch, seq: 0 } });
    expect(resumed.recovered).toBe(false);
    expect(resumed.history.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 51 + i));
    expect(wireBytes(resumed)).toBeLessThan(ONE_MIB);

    const page = await reader.ok('history:get', { room: 'long', limit: 100 });
    expect(wireBytes(page)).toBeLessThan(ONE_MIB);
    expect(page.messages.length).toBeGreaterThan(50);
    expect(page.messages.length).toBeLessThan(100);
    // The newest ones, in order; the client pages on from the first.
    expect(page.messages.at(-1)!.seq).toBe(100);
    const older = await reader.ok('history:get', { room: 'long', before: page.messages[0]!.seq, limit: 100 });
    expect(older.messages.at(-1)!.seq).toBe(page.messages[0]!.seq - 1);
    expect(older.messages[0]!.seq).toBe(1);

    // A resume that fits is still exact.
    const near = await reader.ok('room:join', { room: 'long', since: { epoch, seq: 95 } });
    expect(near.recovered).toBe(true);
    expect(near.history.map((m) => m.seq)).toEqual([96, 97, 98, 99, 100]);
    await expectClusterServes(cluster);
  });

  it('lists a sample of 500 members in a big room and counts them all', async () => {
    const [a] = cluster.gateways;
    const { RedisPresenceStore } = await import('../../apps/gateway/src/rooms/presence-store.redis');
    const store = new RedisPresenceStore(cluster.redis.connect(), { prefix: cluster.cluster.prefix });
    const node = `${a!.nodeId}-seed`;
    await store.heartbeat(node);
    await Promise.all(
      Array.from({ length: 800 }, (_, i) =>
        store.join({ room: 'crowd', connId: `seed-${i}`, user: { id: `u-${i}`, name: `member ${i}` }, node }),
      ),
    );
    const joiner = await connectClient(a!.url, { name: 'joiner' });
    const joined = await joiner.ok('room:join', { room: 'crowd' });
    expect(joined.memberCount).toBe(801);
    expect(joined.members.length).toBeLessThanOrEqual(LIMITS.joinMembersMax);
    expect(joined.members.length).toBeGreaterThan(LIMITS.joinMembersMax - 5);
  });
});
