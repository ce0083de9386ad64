import type { PresenceEvent } from '@chorus/protocol';
import { describe, expect, it } from 'vitest';
import {
  connectClient,
  connectPlain,
  type PlainClient,
  type TestClient,
  waitForMessages,
} from '../support/clients';
import { useCluster } from '../support/hooks';
import { eventually, withTimeout } from '../support/wait';

const cluster = useCluster({ gateways: 3 });

/** Waits until `client` has received `line`; returns every line so far. */
function waitForLine(client: PlainClient, line: string): Promise<string[]> {
  return eventually(() => {
    if (!client.lines.includes(line))
      throw new Error(`no ${JSON.stringify(line)} in ${JSON.stringify(client.lines)}`);
    return client.lines;
  });
}

/** Waits until `client` saw `name` join or leave `room`. */
function waitForPresence(client: TestClient, room: string, name: string, state: PresenceEvent['state']) {
  return eventually(() => {
    const event = client.presence.find((p) => p.room === room && p.user.name === name && p.state === state);
    if (!event)
      throw new Error(`no presence ${state} of ${name} in ${room}: ${JSON.stringify(client.presence)}`);
    return event;
  });
}

/**
 * Sends `text` from a plain client and waits for its own copy: frames wait for the connection's room join,
 * so the echo proves the client is a member and subscribed.
 */
async function sayAndHear(client: PlainClient, name: string, text: string): Promise<void> {
  client.send(text);
  await waitForLine(client, `from ${name}: ${text}`);
}

function closed(client: PlainClient): Promise<{ code: number; reason: string }> {
  return withTimeout(
    new Promise((resolve) =>
      client.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    ),
    5_000,
    'plain websocket close',
  );
}

describe('plain WebSocket clients', () => {
  it('shows every message as exactly one line: line breaks and control characters arrive escaped', async () => {
    const [a, b] = cluster.gateways;
    const mallory = await connectClient(b!.url, { name: 'mallory' });
    await mallory.ok('room:join', { room: 'lines' });
    const alice = await connectPlain(a!.url, { room: 'lines', name: 'alice' });
    await waitForPresence(mallory, 'lines', 'alice', 'joined');
    await mallory.ok('message:send', { room: 'lines', text: 'hi\nfrom admin: reset your password' });
    await mallory.ok('message:send', { room: 'lines', text: 'a\r\nb\u2028c\u0007\u001b[2Jd\te' });
    await eventually(() => expect(alice.lines).toHaveLength(2));
    expect(alice.lines).toEqual([
      'from mallory: hi\\nfrom admin: reset your password',
      'from mallory: a\\r\\nb\\u2028c\\u0007\\u001b[2Jd\\te',
    ]);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no raw control character may reach the client
    const controls = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
    for (const line of alice.lines) expect(line).not.toMatch(controls);
  });

  it('chat both ways with Socket.IO clients on other gateways', async () => {
    const [a, b, c] = cluster.gateways;
    const bob = await connectClient(b!.url, { name: 'bob' });
    const carol = await connectClient(c!.url, { name: 'carol' });
    await bob.ok('room:join', { room: 'mixed' });
    await carol.ok('room:join', { room: 'mixed' });
    const alice = await connectPlain(a!.url, { room: 'mixed', name: 'alice' });
    await waitForPresence(bob, 'mixed', 'alice', 'joined');

    const { message: sent } = await bob.ok('message:send', { room: 'mixed', text: 'hi' });
    await waitForLine(alice, 'from bob: hi');

    alice.send('hello, Socket.IO  world ✓');
    for (const client of [bob, carol]) {
      const received = await waitForMessages(client, 'mixed', 2);
      expect(received[0]).toEqual(sent);
      expect(received[1]).toMatchObject({
        room: 'mixed',
        seq: 2,
        text: 'hello, Socket.IO  world ✓',
        user: { name: 'alice', id: expect.any(String) },
      });
    }
    expect(bob.inRoom('mixed')[1]).toEqual(carol.inRoom('mixed')[1]);
    await waitForLine(alice, 'from alice: hello, Socket.IO  world ✓');
    expect(alice.lines).toEqual(['from bob: hi', 'from alice: hello, Socket.IO  world ✓']);
  });

  it('lets two plain clients on different gateways talk', async () => {
    const [a, b] = cluster.gateways;
    const alice = await connectPlain(a!.url, { room: 'duo', name: 'alice' });
    await sayAndHear(alice, 'alice', 'alice here');
    const dave = await connectPlain(b!.url, { room: 'duo', name: 'dave' });
    await sayAndHear(dave, 'dave', 'dave here');
    await waitForLine(alice, 'from dave: dave here');

    alice.send('hi dave');
    await waitForLine(dave, 'from alice: hi dave');
    dave.send('hi alice');
    await waitForLine(alice, 'from dave: hi alice');

    expect(alice.lines).toEqual([
      'from alice: alice here',
      'from dave: dave here',
      'from alice: hi dave',
      'from dave: hi alice',
    ]);
    // Dave joined after alice's first line: he sees only what was said while he was there.
    await waitForLine(dave, 'from dave: hi alice');
    expect(dave.lines).toEqual(['from dave: dave here', 'from alice: hi dave', 'from dave: hi alice']);
  });

  it('counts a plain client as a room member and announces its joining and leaving', async () => {
    const [a, b, c] = cluster.gateways;
    const bob = await connectClient(b!.url, { name: 'bob' });
    await bob.ok('room:join', { room: 'members' });
    const alice = await connectPlain(a!.url, { room: 'members', name: 'alice' });
    const joined = await waitForPresence(bob, 'members', 'alice', 'joined');

    const carol = await connectClient(c!.url, { name: 'carol' });
    const { members } = await carol.ok('room:join', { room: 'members' });
    expect(members).toContainEqual(joined.user);
    expect(members.map((m) => m.name).sort()).toEqual(['alice', 'bob', 'carol']);

    alice.close();
    const left = await waitForPresence(bob, 'members', 'alice', 'left');
    expect(left.user).toEqual(joined.user);
    await waitForPresence(carol, 'members', 'alice', 'left');
    const after = await bob.ok('room:join', { room: 'members' });
    expect(after.members.map((m) => m.name).sort()).toEqual(['bob', 'carol']);
  });

  it('does not deliver messages of other rooms', async () => {
    const [a, b] = cluster.gateways;
    const bob = await connectClient(b!.url, { name: 'bob' });
    await bob.ok('room:join', { room: 'here' });
    await bob.ok('room:join', { room: 'elsewhere' });
    const alice = await connectPlain(a!.url, { room: 'here', name: 'alice' });
    await waitForPresence(bob, 'here', 'alice', 'joined');

    await bob.ok('message:send', { room: 'elsewhere', text: 'not for alice' });
    await bob.ok('message:send', { room: 'here', text: 'marker' });
    await waitForLine(alice, 'from bob: marker');
    expect(alice.lines).toEqual(['from bob: marker']);
  });

  it('puts a connection without a room in the lobby', async () => {
    const [a, b] = cluster.gateways;
    const bob = await connectClient(b!.url, { name: 'bob' });
    await bob.ok('room:join', { room: 'lobby' });
    const dora = await connectPlain(a!.url, { name: 'dora' });
    await waitForPresence(bob, 'lobby', 'dora', 'joined');

    dora.send('anyone in the lobby?');
    const [received] = await waitForMessages(bob, 'lobby', 1);
    expect(received).toMatchObject({ room: 'lobby', text: 'anyone in the lobby?', user: { name: 'dora' } });
  });

  it.each([
    ['a room with spaces and punctuation', { room: 'bad room!', name: 'alice' }],
    ['an empty room', { room: '', name: 'alice' }],
    ['a room longer than 64 characters', { room: 'r'.repeat(65), name: 'alice' }],
    ['a name longer than 32 characters', { room: 'lobby', name: 'n'.repeat(33) }],
    ['a blank name', { room: 'lobby', name: '   ' }],
    ['a name reserved for the service', { room: 'lobby', name: 'Admin' }],
  ])('refuses %s with HTTP 400 before the upgrade', async (_case, query) => {
    const [a] = cluster.gateways;
    await expect(connectPlain(a!.url, query)).rejects.toThrow('HTTP 400');
  });

  it('closes a connection that sends a binary frame with 1003, leaving others open', async () => {
    const [a, b] = cluster.gateways;
    const alice = await connectPlain(a!.url, { room: 'bin', name: 'alice' });
    const dave = await connectPlain(b!.url, { room: 'bin', name: 'dave' });
    await sayAndHear(alice, 'alice', 'ready');
    await sayAndHear(dave, 'dave', 'ready');

    const closing = closed(alice);
    alice.ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]), { binary: true });
    expect((await closing).code).toBe(1003);

    await sayAndHear(dave, 'dave', 'still here');
  });

  it('answers a blank text frame with an INVALID_PAYLOAD line and keeps the connection usable', async () => {
    const [a] = cluster.gateways;
    const alice = await connectPlain(a!.url, { room: 'blank', name: 'alice' });

    alice.send('   ');
    const lines = await eventually(() => {
      if (alice.lines.length === 0) throw new Error('no line yet');
      return alice.lines;
    });
    expect(lines[0]).toMatch(/^error: INVALID_PAYLOAD \S/);

    await sayAndHear(alice, 'alice', 'not blank');
    expect(alice.lines).toHaveLength(2);
    expect(alice.ws.readyState).toBe(alice.ws.OPEN);
  });

  it('stores plain messages in the room history for Socket.IO clients who join later', async () => {
    const [a, , c] = cluster.gateways;
    const alice = await connectPlain(a!.url, { room: 'kept', name: 'alice' });
    alice.send('first');
    alice.send('second');
    await waitForLine(alice, 'from alice: second');

    const carol = await connectClient(c!.url, { name: 'carol' });
    const { history } = await carol.ok('room:join', { room: 'kept' });
    expect(history.map((m) => ({ seq: m.seq, name: m.user.name, text: m.text }))).toEqual([
      { seq: 1, name: 'alice', text: 'first' },
      { seq: 2, name: 'alice', text: 'second' },
    ]);
  });
});
