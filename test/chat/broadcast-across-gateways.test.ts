import { describe, expect, it } from 'vitest';
import { connectClient, repeatedMessages, waitForMessages } from '../support/clients';
import { useCluster } from '../support/hooks';
import { eventually } from '../support/wait';

const cluster = useCluster({ gateways: 3 });

describe('broadcast across gateways', () => {
  it('tells each client which gateway holds it', async () => {
    const [a, b, c] = cluster.gateways;
    const clients = await Promise.all([a!, b!, c!].map((g) => connectClient(g.url, { name: 'x' })));
    expect(clients.map((cl) => cl.session.node)).toEqual(['gw-1', 'gw-2', 'gw-3']);
  });

  it('delivers every message of a burst sent on gateway A to members on gateways B and C, the sender included, each once', async () => {
    const [a, b, c] = cluster.gateways;
    const alice = await connectClient(a!.url, { name: 'alice' });
    const bob = await connectClient(b!.url, { name: 'bob' });
    const carol = await connectClient(c!.url, { name: 'carol', transports: ['polling'] });
    const members = [alice, bob, carol];
    for (const client of members) await client.ok('room:join', { room: 'lobby' });

    const burst = 20;
    const acks = await Promise.all(
      Array.from({ length: burst }, (_, i) =>
        alice.ok('message:send', { room: 'lobby', text: `hello ${i}` }),
      ),
    );
    const sent = acks.map((ack) => ack.message).sort((x, y) => x.seq - y.seq);
    expect(sent.map((m) => m.seq)).toEqual(Array.from({ length: burst }, (_, i) => i + 1));
    expect(sent[0]).toMatchObject({ room: 'lobby', seq: 1, user: alice.session.user });
    // A fence sent after the burst: once a member has it, any repeat of the burst sent before it is in too.
    const { message: fence } = await bob.ok('message:send', { room: 'lobby', text: 'fence' });

    for (const client of members) {
      await eventually(() => expect(client.inRoom('lobby').map((m) => m.seq)).toContain(fence.seq));
      const name = client.session.user.name;
      expect(client.inRoom('lobby'), `${name} got each message once, in seq order`).toEqual([...sent, fence]);
      expect(repeatedMessages(client), `${name}'s socket got these more than once`).toEqual([]);
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

    // A fence after the race: once a member has it, any repeat sent before it has arrived too.
    const { message: fence } = await senders[0]!.ok('message:send', { room: 'race', text: 'fence' });
    const reference = new Map([...acks.map((a) => [a.message.seq, a.message] as const), [fence.seq, fence]]);
    for (const client of [...senders, ...listeners]) {
      await eventually(() => expect(client.inRoom('race').map((m) => m.seq)).toContain(fence.seq), {
        timeoutMs: 10_000,
      });
      const received = client.inRoom('race');
      expect(received.map((m) => m.seq)).toEqual(Array.from({ length: total + 1 }, (_, i) => i + 1));
      for (const m of received) expect(m).toEqual(reference.get(m.seq));
      expect(repeatedMessages(client), `${client.session.user.name}'s socket`).toEqual([]);
    }
    // Each sender's own messages keep the order it sent them in.
    for (let s = 0; s < senders.length; s++) {
      const mine = listeners[0]!.inRoom('race').filter((m) => m.text.startsWith(`s${s}-`));
      expect(mine.map((m) => m.text)).toEqual(Array.from({ length: perSender }, (_, i) => `s${s}-m${i}`));
    }
  });
});
