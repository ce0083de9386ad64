import { describe, expect, it } from 'vitest';
import { roomChannel } from '../../apps/gateway/src/bus/room-bus';
import { connectClient, connectPlain, waitForMessages } from '../support/clients';
import { BACKENDS, useCluster } from '../support/hooks';
import { metricSum, scrapeMetrics } from '../support/metrics';
import { eventually } from '../support/wait';

describe.each(BACKENDS)('room-scoped fan-out on %s', (backend) => {
  const cluster = useCluster({ gateways: 3, backend });

  /** How many gateways are subscribed to `room`'s bus channel, as Redis counts them (on every node). */
  async function gatewaysHearing(room: string): Promise<number> {
    const store = cluster.connectStore();
    await store.ping();
    const nodes = 'nodes' in store ? store.nodes('master') : [store];
    const channel = roomChannel(cluster.cluster.prefix, room);
    let total = 0;
    for (const node of nodes) {
      const reply = (await node.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number];
      total += Number(reply[1]);
    }
    return total;
  }

  const framesHeard = async (url: string) => metricSum(await scrapeMetrics(url), 'chorus_bus_frames_total');

  it('subscribes exactly the gateways that host a member, and the others hear nothing of the room', async () => {
    const [a, b, c] = cluster.gateways;
    const alice = await connectClient(a!.url, { name: 'alice' });
    const bob = await connectClient(b!.url, { name: 'bob' });
    const carol = await connectClient(c!.url, { name: 'carol' });
    await alice.ok('room:join', { room: 'busy' });
    await bob.ok('room:join', { room: 'busy' });
    await carol.ok('room:join', { room: 'quiet' });
    expect(await gatewaysHearing('busy')).toBe(2);
    expect(await gatewaysHearing('quiet')).toBe(1);

    // Carol's own join is announced on her room's channel, which gateway C hears: wait for it to land.
    await eventually(async () => expect(await framesHeard(c!.url)).toBe(1));
    const quietBefore = await framesHeard(c!.url);
    const sent = [];
    for (let i = 0; i < 30; i++)
      sent.push((await alice.ok('message:send', { room: 'busy', text: `m${i}` })).message);
    for (const client of [alice, bob]) expect(await waitForMessages(client, 'busy', 30)).toEqual(sent);
    // Gateway C hosts nobody in `busy`: not one of its 30 messages (or its presence events) reached it.
    expect(await framesHeard(c!.url)).toBe(quietBefore);
    expect(await framesHeard(b!.url)).toBeGreaterThanOrEqual(30);
    expect(carol.inRoom('busy')).toEqual([]);
  });

  it('drops the subscription when the last local member leaves or disconnects, and takes it again on a join', async () => {
    const [a, b] = cluster.gateways;
    const alice = await connectClient(a!.url, { name: 'alice' });
    const anna = await connectClient(a!.url, { name: 'anna' });
    const bob = await connectClient(b!.url, { name: 'bob' });
    for (const client of [alice, anna, bob]) await client.ok('room:join', { room: 'r' });
    const plain = await connectPlain(b!.url, { room: 'r', name: 'pat' });
    expect(await gatewaysHearing('r')).toBe(2);

    await alice.ok('room:leave', { room: 'r' });
    expect(await gatewaysHearing('r')).toBe(2);
    anna.socket.disconnect();
    await eventually(async () => expect(await gatewaysHearing('r')).toBe(1));
    await bob.ok('room:leave', { room: 'r' });
    // The plain client on gateway B still holds the room there.
    expect(await gatewaysHearing('r')).toBe(1);
    plain.close();
    await eventually(async () => expect(await gatewaysHearing('r')).toBe(0));

    await alice.ok('room:join', { room: 'r' });
    expect(await gatewaysHearing('r')).toBe(1);
    const { message } = await alice.ok('message:send', { room: 'r', text: 'back' });
    expect(await waitForMessages(alice, 'r', 1)).toEqual([message]);
  });

  it('sends presence to the room’s members on every gateway, not to the joiner, and nowhere else', async () => {
    const [a, b, c] = cluster.gateways;
    const alice = await connectClient(a!.url, { name: 'alice' });
    const bob = await connectClient(b!.url, { name: 'bob' });
    const carol = await connectClient(c!.url, { name: 'carol' });
    await alice.ok('room:join', { room: 'p' });
    await carol.ok('room:join', { room: 'other' });
    // Carol's own join is announced on her room's channel, which gateway C hears: wait for it to land.
    await eventually(async () => expect(await framesHeard(c!.url)).toBe(1));
    const quietBefore = await framesHeard(c!.url);
    await bob.ok('room:join', { room: 'p' });
    await eventually(() =>
      expect(alice.presence).toEqual([{ room: 'p', user: bob.session.user, state: 'joined' }]),
    );
    await bob.ok('room:leave', { room: 'p' });
    await eventually(() => expect(alice.presence.map((p) => p.state)).toEqual(['joined', 'left']));
    expect(bob.presence).toEqual([]);
    expect(carol.presence).toEqual([]);
    expect(await framesHeard(c!.url)).toBe(quietBefore);
  });
});
