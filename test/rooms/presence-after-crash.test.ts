import { describe, expect, it } from 'vitest';
import { connectClient } from '../support/clients';
import { useCluster } from '../support/hooks';
import { eventually } from '../support/wait';

const cluster = useCluster({ gateways: 2 });

const names = (users: { name: string }[]) => users.map((u) => u.name).sort();

describe('presence after a gateway crashes and comes back under the same node id', () => {
  it('sweeps what the crashed incarnation held from Redis itself, and lists no ghost', async () => {
    const [a, b] = cluster.gateways;
    const ghosts = await Promise.all([1, 2, 3].map((i) => connectClient(a!.url, { name: `ghost-${i}` })));
    for (const ghost of ghosts) await ghost.ok('room:join', { room: 'lobby' });
    const bob = await connectClient(b!.url, { name: 'bob' });
    await bob.ok('room:join', { room: 'lobby' });

    // gw-1 dies without a word and a new process starts as gw-1 at once, as compose or Kubernetes would.
    await a!.crash();
    const reborn = await cluster.cluster.addGateway('gw-1');
    const carol = await connectClient(reborn.url, { name: 'carol' });
    await carol.ok('room:join', { room: 'lobby' });

    // The old incarnation heartbeats no more: within the node TTL (6 s) plus a heartbeat its members are gone
    // from the member list and swept from Redis itself (the raw hash holds only live members).
    const redis = cluster.redis.connect();
    const roomKey = `${cluster.cluster.prefix}{presence}:room:lobby`;
    await eventually(
      async () => {
        const fields = await redis.hgetall(roomKey);
        expect(
          Object.values(fields)
            .map((json) => (JSON.parse(json) as { name: string }).name)
            .sort(),
        ).toEqual(['bob', 'carol']);
      },
      { timeoutMs: 12_000, intervalMs: 250 },
    );
    expect(names((await carol.ok('room:join', { room: 'lobby' })).members)).toEqual(['bob', 'carol']);
    expect((await bob.ok('rooms:list', {})).rooms).toEqual([{ room: 'lobby', members: 2 }]);
    // And the members who were there all along heard each of them leave, once (the sweep announces it).
    await eventually(() =>
      expect(
        bob.presence
          .filter((p) => p.state === 'left')
          .map((p) => p.user.name)
          .sort(),
      ).toEqual(['ghost-1', 'ghost-2', 'ghost-3']),
    );
  }, 20_000);
});

describe('a leave while Redis does not answer', () => {
  it('is retried until Redis takes it: the member does not stay listed', async () => {
    const [a, b] = cluster.gateways;
    const alice = await connectClient(a!.url, { name: 'alice' });
    const bob = await connectClient(b!.url, { name: 'bob' });
    await alice.ok('room:join', { room: 'busy' });
    await bob.ok('room:join', { room: 'busy' });
    // Redis holds every write for 4 s: longer than a command may wait (3 s), so alice's leave fails once.
    await cluster.redis.connect().call('CLIENT', 'PAUSE', '4000', 'WRITE');
    alice.close();
    await eventually(
      () => expect(bob.presence).toContainEqual({ room: 'busy', user: alice.session.user, state: 'left' }),
      {
        timeoutMs: 15_000,
        intervalMs: 200,
      },
    );
    const again = await connectClient(b!.url, { name: 'carol' });
    expect(names((await again.ok('room:join', { room: 'busy' })).members)).toEqual(['bob', 'carol']);
  }, 25_000);
});
