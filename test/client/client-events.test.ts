import { type ChorusClient, createChorusClient } from '@chorus/client';
import { afterEach, describe, expect, it } from 'vitest';
import { connectClient } from '../support/clients';
import { useCluster } from '../support/hooks';
import { eventually } from '../support/wait';

// One message at once, then one every half second, so a second send is refused for a while.
const cluster = useCluster({ gateways: 1, rateLimit: { perSecond: 2, burst: 1 } });
const clients: ChorusClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

function client(name: string): ChorusClient {
  const c = createChorusClient({
    urls: [cluster.gateways[0]!.url],
    name,
    reconnectDelayMs: { min: 50, max: 300 },
    ackTimeoutMs: 2_000,
  });
  clients.push(c);
  return c;
}

describe('client SDK events', () => {
  it('reports a rate-limited send as retrying and delivers it once the limit has passed', async () => {
    const alice = client('alice');
    const retries: { clientMsgId: string; code?: string }[] = [];
    alice.on('retrying', ({ clientMsgId, code }) => retries.push({ clientMsgId, code }));
    await alice.join('r');
    await alice.send('r', 'first');
    const second = await alice.send('r', 'second', { clientMsgId: 'second-id' });
    expect(second).toMatchObject({ seq: 2, text: 'second' });
    expect(retries.length).toBeGreaterThan(0);
    expect(retries.every((r) => r.clientMsgId === 'second-id' && r.code === 'RATE_LIMITED')).toBe(true);
    expect((await alice.history('r')).map((m) => m.text)).toEqual(['first', 'second']);
  });

  it('tells the members of a room when it joins and again after every reconnect', async () => {
    const alice = client('alice');
    const bob = client('bob');
    const joined: string[][] = [];
    bob.on('joined', ({ room, members }) => {
      if (room === 'r') joined.push(members.map((m) => m.name).sort());
    });
    await alice.join('r');
    await bob.join('r');
    expect(joined).toEqual([['alice', 'bob']]);

    const resumed = new Promise((resolve) => bob.on('resumed', resolve));
    const bobId = bob.session!.user.id;
    for (const socket of cluster.gateways[0]!.gateway.io.of('/').sockets.values()) {
      if (socket.data.user?.id === bobId) socket.conn.close();
    }
    await resumed;
    await eventually(() =>
      expect(joined).toEqual([['alice', 'bob'], expect.arrayContaining(['alice', 'bob'])]),
    );
    // A guest stays the same user across reconnects (the SDK hands back its guest token), listed once.
    expect(bob.session!.user.id).toBe(bobId);
    expect(joined[1]).toEqual(['alice', 'bob']);
  });

  it('reports each user of a presence batch as a presence event of its own', async () => {
    const alice = client('alice');
    await alice.join('crowd');
    const heard: string[] = [];
    alice.on('presence', ({ room, user, state }) => heard.push(`${room} ${state} ${user.name}`));
    const watcher = await connectClient(cluster.gateways[0]!.url, { name: 'watcher' });
    await watcher.ok('room:join', { room: 'crowd' });
    const crowd = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'].map(client);
    await Promise.all(crowd.map((c) => c.join('crowd')));
    const expected = crowd.map((_, i) => `crowd joined c${i + 1}`);
    await eventually(() =>
      expect(heard.filter((h) => h !== 'crowd joined watcher').sort()).toEqual(expected),
    );
    // They came within one presence window: the wire carried fewer frames than users (so batches were used).
    expect(watcher.presenceFrames).toBeLessThan(crowd.length);
  });
});
