import { type ChorusClient, createChorusClient } from '@chorus/client';
import { LIMITS, type TypingEvent } from '@chorus/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { connectClient, type TestClient } from '../support/clients';
import { useCluster } from '../support/hooks';
import { eventually, sleep } from '../support/wait';

// Three gateways on a real Redis: typing travels like presence, through the room's bus channel.
const cluster = useCluster({ gateways: 3 });
const sdkClients: ChorusClient[] = [];
afterEach(() => {
  for (const c of sdkClients.splice(0)) c.close();
});

/** A test client that also records the `typing` events it receives. */
async function typist(url: string, name: string): Promise<TestClient & { typing: TypingEvent[] }> {
  const client = await connectClient(url, { name });
  const typing: TypingEvent[] = [];
  client.socket.on('typing', (event) => typing.push(event));
  return Object.assign(client, { typing });
}

function sdk(url: string, name: string): ChorusClient {
  const client = createChorusClient({ urls: [url], name, reconnectDelayMs: { min: 50, max: 300 } });
  sdkClients.push(client);
  return client;
}

/** Typing frames gateway `index` heard on the bus. */
async function typingFrames(index: number): Promise<number> {
  const { values } = await cluster.gateways[index]!.metrics.busFrames.get();
  return values.find((v) => v.labels.kind === 'typing')?.value ?? 0;
}

const states = (client: { typing: TypingEvent[] }) => client.typing.map((e) => e.typing);

describe('typing indicators across gateways', () => {
  it('tells the other members, on every gateway, that someone is typing and when they stop', async () => {
    const [a, b, c] = cluster.gateways;
    const alice = await typist(a!.url, 'alice');
    const bob = await typist(b!.url, 'bob');
    const carol = await typist(c!.url, 'carol');
    const dave = await typist(c!.url, 'dave');
    for (const client of [alice, bob, carol]) await client.ok('room:join', { room: 'lobby' });
    await dave.ok('room:join', { room: 'elsewhere' });

    expect(await alice.request('typing', { room: 'lobby', typing: true })).toEqual({ ok: true });
    const started = { room: 'lobby', user: alice.session.user, typing: true };
    for (const client of [bob, carol]) await eventually(() => expect(client.typing).toEqual([started]));
    await alice.ok('typing', { room: 'lobby', typing: false });
    for (const client of [bob, carol]) {
      await eventually(() => expect(client.typing).toEqual([started, { ...started, typing: false }]));
    }
    // Neither the typer nor someone in another room hears it.
    expect(alice.typing).toEqual([]);
    expect(dave.typing).toEqual([]);
  });

  it('answers NOT_IN_ROOM outside the room and FORBIDDEN in a conversation of two others', async () => {
    const [a, b] = cluster.gateways;
    const alice = await typist(a!.url, 'alice');
    const bob = await typist(b!.url, 'bob');
    await bob.ok('room:join', { room: 'lobby' });
    expect(await alice.request('typing', { room: 'lobby', typing: true })).toMatchObject({
      ok: false,
      error: { code: 'NOT_IN_ROOM' },
    });
    const { room: dm } = await bob.ok('dm:open', { user: 'carol-id' });
    expect(await alice.request('typing', { room: dm, typing: true })).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });
    await sleep(200);
    expect(bob.typing).toEqual([]);
  });

  it('passes on one start per user and room per second, a stop at once, and a start right after a stop when the second is over', async () => {
    const [a, b] = cluster.gateways;
    const alice = await typist(a!.url, 'alice');
    const bob = await typist(b!.url, 'bob');
    await alice.ok('room:join', { room: 'lobby' });
    await bob.ok('room:join', { room: 'lobby' });

    for (let i = 0; i < 20; i++) await alice.ok('typing', { room: 'lobby', typing: true });
    await eventually(() => expect(states(bob)).toEqual([true]));
    await alice.ok('typing', { room: 'lobby', typing: false });
    await eventually(() => expect(states(bob)).toEqual([true, false]));
    await alice.ok('typing', { room: 'lobby', typing: false });
    const restartedAt = Date.now();
    await alice.ok('typing', { room: 'lobby', typing: true });
    await sleep(300);
    expect(states(bob)).toEqual([true, false]);
    await eventually(() => expect(states(bob)).toEqual([true, false, true]), { timeoutMs: 3_000 });
    expect(Date.now() - restartedAt).toBeGreaterThanOrEqual(LIMITS.typingThrottleMs - 400);

    // A second later a refresh goes out again.
    await sleep(LIMITS.typingThrottleMs + 50);
    await alice.ok('typing', { room: 'lobby', typing: true });
    await eventually(() => expect(states(bob)).toEqual([true, false, true, true]));
  });

  it('costs nothing on a gateway with no member of the room', async () => {
    const [a, b] = cluster.gateways;
    const alice = await typist(a!.url, 'alice');
    const bob = await typist(b!.url, 'bob');
    await alice.ok('room:join', { room: 'lobby' });
    await bob.ok('room:join', { room: 'lobby' });
    await alice.ok('typing', { room: 'lobby', typing: true });
    await eventually(() => expect(states(bob)).toEqual([true]));
    expect(await typingFrames(0)).toBe(1);
    expect(await typingFrames(1)).toBe(1);
    expect(await typingFrames(2)).toBe(0);
  });

  it('sends nothing in a room of more than 100 members (TYPING_MAX_ROOM_SIZE)', async () => {
    const [a, b, c] = cluster.gateways;
    const gateways = [a!, b!, c!];
    const alice = await typist(a!.url, 'alice');
    const bob = await typist(b!.url, 'bob');
    await bob.ok('room:join', { room: 'big' });
    await bob.ok('room:join', { room: 'small' });
    // 99 more, so alice's join makes 101 members in `big`.
    const crowd = await Promise.all(
      Array.from({ length: 99 }, (_, i) => connectClient(gateways[i % 3]!.url, { name: `c${i}` })),
    );
    await Promise.all(crowd.map((client) => client.ok('room:join', { room: 'big' })));
    // Every join announced on the bus before alice's join reads the count.
    await eventually(() => expect(bob.presence.filter((p) => p.room === 'big')).toHaveLength(99));
    const joined = await alice.ok('room:join', { room: 'big' });
    expect(joined.memberCount).toBe(101);
    await alice.ok('room:join', { room: 'small' });

    expect(await alice.request('typing', { room: 'big', typing: true })).toEqual({ ok: true });
    await alice.ok('typing', { room: 'small', typing: true });
    await eventually(() => expect(bob.typing.map((e) => e.room)).toEqual(['small']));
    await sleep(200);
    expect(bob.typing.map((e) => e.room)).toEqual(['small']);

    // One leaves: 100 members, typing shows again (the count follows presence, no Redis read per keystroke).
    crowd[0]!.close();
    await eventually(() => expect(bob.presence.filter((p) => p.state === 'left')).toHaveLength(1));
    await eventually(async () => {
      await alice.ok('typing', { room: 'big', typing: true });
      expect(bob.typing).toContainEqual({ room: 'big', user: alice.session.user, typing: true });
    });
  });

  it('SDK: keeps a typer shown while they type, expires one who went quiet, and reports a stop', async () => {
    const [a, b, c] = cluster.gateways;
    const alice = sdk(a!.url, 'alice');
    const bob = sdk(b!.url, 'bob');
    const heard: { name: string; typing: boolean; at: number }[] = [];
    bob.on('typing', (e) => heard.push({ name: e.user.name, typing: e.typing, at: Date.now() }));
    await alice.join('lobby');
    await bob.join('lobby');
    // Carol types once on a raw connection and never refreshes: bob's client expires her after the TTL.
    const carol = await typist(c!.url, 'carol');
    await carol.ok('room:join', { room: 'lobby' });

    const start = Date.now();
    const keystrokes = setInterval(() => alice.typing('lobby', true), 400);
    try {
      alice.typing('lobby', true);
      await carol.ok('typing', { room: 'lobby', typing: true });
      await eventually(() =>
        expect(
          bob
            .typingIn('lobby')
            .map((u) => u.name)
            .sort(),
        ).toEqual(['alice', 'carol']),
      );
      await eventually(
        () => expect(heard).toContainEqual(expect.objectContaining({ name: 'carol', typing: false })),
        {
          timeoutMs: LIMITS.typingTtlMs + 2_000,
        },
      );
      const carolStop = heard.find((h) => h.name === 'carol' && !h.typing)!;
      expect(carolStop.at - start).toBeGreaterThanOrEqual(LIMITS.typingTtlMs - 500);
      // Alice kept typing past the TTL: the SDK refreshed her, so she never expired.
      expect(heard.filter((h) => h.name === 'alice')).toEqual([expect.objectContaining({ typing: true })]);
      expect(bob.typingIn('lobby').map((u) => u.name)).toEqual(['alice']);
    } finally {
      clearInterval(keystrokes);
    }
    // Sending stops typing.
    await alice.send('lobby', 'done');
    await eventually(() => expect(bob.typingIn('lobby')).toEqual([]));
    expect(heard.filter((h) => h.name === 'alice').map((h) => h.typing)).toEqual([true, false]);
  });
});
