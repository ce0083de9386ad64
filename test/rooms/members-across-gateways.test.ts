import { describe, expect, it } from 'vitest';
import { connectClient } from '../support/clients';
import { BACKENDS, useCluster } from '../support/hooks';
import { eventually } from '../support/wait';

describe.each(BACKENDS)('on %s', (backend) => {
  const cluster = useCluster({ gateways: 3, backend });

  const names = (users: { name: string }[]) => users.map((u) => u.name).sort();

  describe('members across gateways', () => {
    it('lists in the join ack the users in the room on every gateway', async () => {
      const [a, b, c] = cluster.gateways;
      const alice = await connectClient(a!.url, { name: 'alice' });
      const bob = await connectClient(b!.url, { name: 'bob' });
      const carol = await connectClient(c!.url, { name: 'carol' });
      await alice.ok('room:join', { room: 'lobby' });
      await bob.ok('room:join', { room: 'lobby' });
      await carol.ok('room:join', { room: 'other' });
      const joined = await carol.ok('room:join', { room: 'lobby' });
      expect(names(joined.members)).toEqual(['alice', 'bob', 'carol']);
    });

    it('tells the other members, on any gateway, when someone joins and leaves', async () => {
      const [a, b, c] = cluster.gateways;
      const alice = await connectClient(a!.url, { name: 'alice' });
      const bob = await connectClient(b!.url, { name: 'bob' });
      await alice.ok('room:join', { room: 'lobby' });
      await bob.ok('room:join', { room: 'lobby' });
      const carol = await connectClient(c!.url, { name: 'carol' });
      await carol.ok('room:join', { room: 'lobby' });
      await carol.ok('room:leave', { room: 'lobby' });

      for (const client of [alice, bob]) {
        await eventually(() =>
          expect(client.presence.filter((p) => p.user.name === 'carol')).toEqual([
            { room: 'lobby', user: carol.session.user, state: 'joined' },
            { room: 'lobby', user: carol.session.user, state: 'left' },
          ]),
        );
      }
      // The joiner hears about neither its own join nor its own leave.
      expect(carol.presence.filter((p) => p.user.id === carol.session.user.id)).toEqual([]);
    });

    it('tells a mass join to every member in a few frames, and every joiner of all the others but itself', async () => {
      const [a, b, c] = cluster.gateways;
      const alice = await connectClient(a!.url, { name: 'alice' });
      await alice.ok('room:join', { room: 'storm' });
      const joiners = await Promise.all(
        Array.from({ length: 40 }, (_, i) => connectClient((i % 2 ? b : c)!.url, { name: `j${i}` })),
      );
      const acks = await Promise.all(joiners.map((j) => j.ok('room:join', { room: 'storm' })));
      const everyone = ['alice', ...joiners.map((j) => j.session.user.name)].sort();
      await eventually(() =>
        expect(names(alice.presence.filter((p) => p.state === 'joined').map((p) => p.user))).toEqual(
          everyone.filter((n) => n !== 'alice'),
        ),
      );
      // One frame per user would be 40; a frame per room and presence window is a handful.
      expect(alice.presenceFrames).toBeLessThanOrEqual(10);
      for (const [i, joiner] of joiners.entries()) {
        // Who its ack listed (with what the room heard while the join was under way), and who came after.
        await eventually(() => {
          const known = new Set(acks[i]!.members.map((u) => u.name));
          for (const p of joiner.presence) if (p.state === 'joined') known.add(p.user.name);
          expect([...known].sort()).toEqual(everyone);
        });
        expect(joiner.presence.filter((p) => p.user.id === joiner.session.user.id)).toEqual([]);
      }
    });

    it('announces a leave when a member disconnects', async () => {
      const [a, b] = cluster.gateways;
      const alice = await connectClient(a!.url, { name: 'alice' });
      const bob = await connectClient(b!.url, { name: 'bob' });
      await alice.ok('room:join', { room: 'lobby' });
      await bob.ok('room:join', { room: 'lobby' });
      bob.close();
      await eventually(() =>
        expect(alice.presence.at(-1)).toEqual({ room: 'lobby', user: bob.session.user, state: 'left' }),
      );
      const again = await alice.ok('room:join', { room: 'lobby' });
      expect(names(again.members)).toEqual(['alice']);
    });

    it('counts the members of every room across the cluster in rooms:list, busiest first', async () => {
      const [a, b, c] = cluster.gateways;
      const clients = await Promise.all(
        [a, b, c, a, b].map((g, i) => connectClient(g!.url, { name: `user-${i}` })),
      );
      for (const client of clients.slice(0, 3)) await client.ok('room:join', { room: 'big' });
      for (const client of clients.slice(3)) await client.ok('room:join', { room: 'small' });
      const { rooms } = await clients[0]!.ok('rooms:list', {});
      expect(rooms).toEqual([
        { room: 'big', members: 3 },
        { room: 'small', members: 2 },
      ]);
    });

    it('drops the members of a gateway that shuts down from every list', async () => {
      const [a, b] = cluster.gateways;
      const alice = await connectClient(a!.url, { name: 'alice' });
      const bob = await connectClient(b!.url, { name: 'bob' });
      await alice.ok('room:join', { room: 'lobby' });
      await bob.ok('room:join', { room: 'lobby' });
      await b!.stop();
      const after = await alice.ok('room:join', { room: 'lobby' });
      expect(names(after.members)).toEqual(['alice']);
      expect((await alice.ok('rooms:list', {})).rooms).toEqual([{ room: 'lobby', members: 1 }]);
    });

    it('drops the members of a gateway that died without saying goodbye, once its heartbeat expires', async () => {
      const [a, b] = cluster.gateways;
      const alice = await connectClient(a!.url, { name: 'alice' });
      const bob = await connectClient(b!.url, { name: 'bob' });
      await alice.ok('room:join', { room: 'lobby' });
      await bob.ok('room:join', { room: 'lobby' });
      await b!.crash();
      await eventually(
        async () => {
          const { members } = await alice.ok('room:join', { room: 'lobby' });
          expect(names(members)).toEqual(['alice']);
        },
        { timeoutMs: 15_000, intervalMs: 500 },
      );
    });
  });
});
