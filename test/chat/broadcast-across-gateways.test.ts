import { describe, expect, it } from 'vitest';
import { connectClient, waitForMessages } from '../support/clients';
import { useCluster } from '../support/hooks';

const cluster = useCluster({ gateways: 3 });

describe('broadcast across gateways', () => {
  it('tells each client which gateway holds it', async () => {
    const [a, b, c] = cluster.gateways;
    const clients = await Promise.all([a!, b!, c!].map((g) => connectClient(g.url, { name: 'x' })));
    expect(clients.map((cl) => cl.session.node)).toEqual(['gw-1', 'gw-2', 'gw-3']);
  });

  it('delivers a message sent on gateway A to members on gateways B and C, the sender included', async () => {
    const [a, b, c] = cluster.gateways;
    const alice = await connectClient(a!.url, { name: 'alice' });
    const bob = await connectClient(b!.url, { name: 'bob' });
    const carol = await connectClient(c!.url, { name: 'carol', transports: ['polling'] });
    for (const client of [alice, bob, carol]) await client.ok('room:join', { room: 'lobby' });

    const { message } = await alice.ok('message:send', { room: 'lobby', text: 'hello from A' });
    expect(message).toMatchObject({ room: 'lobby', seq: 1, text: 'hello from A', user: alice.session.user });

    for (const client of [alice, bob, carol]) {
      const [received] = await waitForMessages(client, 'lobby', 1);
      expect(received).toEqual(message);
    }
  });

  it('does not deliver to clients outside the room', async () => {
    const [a, b] = cluster.gateways;
    const alice = await connectClient(a!.url, { name: 'alice' });
    const bob = await connectClient(b!.url, { name: 'bob' });
    const outsider = await connectClient(b!.url, { name: 'outsider' });
    await alice.ok('room:join', { room: 'private' });
    await bob.ok('room:join', { room: 'private' });
    await outsider.ok('room:join', { room: 'elsewhere' });
    await alice.ok('message:send', { room: 'private', text: 'secret' });
    await waitForMessages(bob, 'private', 1);
    // A later message in the outsider's own room proves its feed works and the first one was not delivered.
    await outsider.ok('message:send', { room: 'elsewhere', text: 'mine' });
    await waitForMessages(outsider, 'elsewhere', 1);
    expect(outsider.messages.map((m) => m.text)).toEqual(['mine']);
  });

  it('stops delivering after room:leave', async () => {
    const [a, b] = cluster.gateways;
    const alice = await connectClient(a!.url, { name: 'alice' });
    const bob = await connectClient(b!.url, { name: 'bob' });
    await alice.ok('room:join', { room: 'r' });
    await bob.ok('room:join', { room: 'r' });
    await bob.ok('room:leave', { room: 'r' });
    await alice.ok('message:send', { room: 'r', text: 'after leave' });
    await waitForMessages(alice, 'r', 1);
    await bob.ok('room:join', { room: 'r2' });
    await alice.ok('room:join', { room: 'r2' });
    await alice.ok('message:send', { room: 'r2', text: 'marker' });
    await waitForMessages(bob, 'r2', 1);
    expect(bob.inRoom('r')).toEqual([]);
  });

  it('gives every member the same messages in seq order while senders on three gateways race', async () => {
    const perSender = 40;
    const senders = await Promise.all(
      cluster.gateways.map((g, i) => connectClient(g.url, { name: `sender-${i}` })),
    );
    const listeners = await Promise.all(
      cluster.gateways.map((g, i) => connectClient(g.url, { name: `listener-${i}` })),
    );
    for (const client of [...senders, ...listeners]) await client.ok('room:join', { room: 'race' });

    const acks = await Promise.all(
      senders.flatMap((sender, s) =>
        Array.from({ length: perSender }, (_, i) =>
          sender.ok('message:send', { room: 'race', text: `s${s}-m${i}` }),
        ),
      ),
    );
    const total = perSender * senders.length;
    const seqs = acks.map((a) => a.message.seq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));

    const reference = new Map(acks.map((a) => [a.message.seq, a.message]));
    for (const client of [...senders, ...listeners]) {
      const received = await waitForMessages(client, 'race', total, 10_000);
      expect(received.map((m) => m.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      for (const m of received) expect(m).toEqual(reference.get(m.seq));
    }
    // Each sender's own messages keep the order it sent them in.
    for (let s = 0; s < senders.length; s++) {
      const mine = listeners[0]!.inRoom('race').filter((m) => m.text.startsWith(`s${s}-`));
      expect(mine.map((m) => m.text)).toEqual(Array.from({ length: perSender }, (_, i) => `s${s}-m${i}`));
    }
  });
});
