import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChatMessage } from '@chorus/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryDeps } from '../../../apps/gateway/src/deps';
import { createGateway, type Gateway, type GatewayOptions } from '../../../apps/gateway/src/gateway';
import { eventually } from '../../../test/support/wait';
import { createChorusClient } from './client';
import type { ChorusClient, ChorusClientOptions } from './types';

// The SDK against one in-process gateway on memory stores: no Redis, so these run in a fraction of a second
// each (the SDK's behaviour across a real Redis and three gateways is in test/client/).

const running: { server: Server; gateway: Gateway }[] = [];
const clients: ChorusClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const { server, gateway } of running.splice(0)) {
    await gateway.close();
    server.close();
  }
});

async function startGateway(options: Partial<GatewayOptions> = {}) {
  const server = createServer();
  const gateway = createGateway(server, createMemoryDeps(), {
    nodeId: 'gw-test',
    logger: pino({ level: 'silent' }),
    rebalance: false,
    ...options,
  });
  running.push({ server, gateway });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  /** Closes the transports of `user`'s connections: the client sees its connection drop. */
  const drop = (userId: string) => {
    for (const socket of gateway.io.of('/').sockets.values())
      if (socket.data.user?.id === userId) socket.conn.close();
  };
  return { url, gateway, drop };
}

function connect(url: string | string[], options: Partial<ChorusClientOptions> = {}) {
  const client = createChorusClient({
    urls: Array.isArray(url) ? url : [url],
    name: 'alice',
    reconnectDelayMs: { min: 10, max: 50 },
    ackTimeoutMs: 2_000,
    transports: ['websocket'],
    ...options,
  });
  clients.push(client);
  const messages: ChatMessage[] = [];
  client.on('message', (m) => messages.push(m));
  const states: string[] = [];
  client.on('state', (s) => states.push(s));
  return { client, messages, states, texts: () => messages.map((m) => m.text) };
}

const connected = (client: ChorusClient) => eventually(() => expect(client.state).toBe('connected'));

describe('the client SDK', () => {
  it('needs a URL', () => {
    expect(() => createChorusClient({ urls: [] })).toThrow('createChorusClient needs at least one URL');
  });

  it('connects as a guest, joins, sends and hears each message once', async () => {
    const { url } = await startGateway();
    const alice = connect(url);
    const bob = connect(url, { name: 'bob' });
    const sessions: string[] = [];
    alice.client.on('session', (s) => sessions.push(s.user.name));
    const joined: string[][] = [];
    bob.client.on('joined', (e) => joined.push(e.members.map((m) => m.name).sort()));
    await alice.client.join('r');
    await bob.client.join('r');
    expect(alice.client.state).toBe('connected');
    expect(alice.states).toEqual(['connected']);
    expect(sessions).toEqual(['alice']);
    expect(alice.client.session).toMatchObject({ user: { name: 'alice', guest: true }, node: 'gw-test' });
    expect(joined).toEqual([['alice', 'bob']]);
    const sent = await alice.client.send('r', 'hello', { clientMsgId: 'hello-1' });
    expect(sent).toMatchObject({ room: 'r', seq: 1, text: 'hello', clientMsgId: 'hello-1' });
    expect(alice.client.pending()).toBe(0);
    await eventually(() => expect(bob.texts()).toEqual(['hello']));
    await eventually(() => expect(alice.texts()).toEqual(['hello']));
    // The same clientMsgId is stored once.
    expect(await alice.client.send('r', 'hello', { clientMsgId: 'hello-1' })).toMatchObject({ seq: 1 });
    expect((await alice.client.history('r')).map((m) => m.seq)).toEqual([1]);
    expect((await bob.client.rooms()).map((r) => r.room)).toEqual(['r']);
  });

  it('asks for what a connected client may do, and says when it is not connected', async () => {
    const { url } = await startGateway();
    const alice = connect(url);
    await expect(alice.client.history('r')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(alice.client.openDm('u')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(alice.client.rooms()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await connected(alice.client);
    await expect(alice.client.history('r')).rejects.toMatchObject({
      code: 'NOT_IN_ROOM',
      message: 'join room r first',
    });
    await expect(alice.client.openDm('')).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
    await expect(alice.client.join('private-x')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(alice.client.send('private-x', 'hi')).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('opens a direct conversation that the other user is told about', async () => {
    const { url } = await startGateway();
    const alice = connect(url);
    const bob = connect(url, { name: 'bob' });
    await connected(alice.client);
    await connected(bob.client);
    const dms: string[] = [];
    bob.client.on('dm', (e) => dms.push(`${e.room} ${e.user.name}`));
    const room = await alice.client.openDm(bob.client.session!.user.id);
    expect(room).toMatch(/^dm-/);
    await eventually(() => expect(dms).toEqual([`${room} alice`]));
    await bob.client.join(room);
    await alice.client.join(room);
    await alice.client.send(room, 'psst');
    await eventually(() => expect(bob.texts()).toEqual(['psst']));
  });

  it('resumes after a dropped connection: the same guest, the rooms rejoined, nothing missed or doubled', async () => {
    const { url, drop } = await startGateway();
    const alice = connect(url);
    const bob = connect(url, { name: 'bob' });
    await alice.client.join('r');
    await bob.client.join('r');
    await alice.client.send('r', 'one');
    await eventually(() => expect(bob.texts()).toEqual(['one']));
    const bobId = bob.client.session!.user.id;
    const resumed: string[] = [];
    bob.client.on('resumed', (e) => resumed.push(e.node));
    const resets: string[] = [];
    bob.client.on('reset', (e) => resets.push(e.room));
    drop(bobId);
    await eventually(() => expect(bob.states).toContain('reconnecting'));
    await alice.client.send('r', 'two');
    await alice.client.send('r', 'three');
    await eventually(() => expect(resumed).toEqual(['gw-test']));
    await eventually(() => expect(bob.texts()).toEqual(['one', 'two', 'three']));
    expect(bob.client.session!.user.id).toBe(bobId);
    expect(bob.states).toEqual(['connected', 'reconnecting', 'connected']);
    expect(resets).toEqual([]);
    await alice.client.send('r', 'four');
    await eventually(() => expect(bob.texts()).toEqual(['one', 'two', 'three', 'four']));
  });

  it('keeps sends made while disconnected and sends them, in order, once back', async () => {
    const { url, drop } = await startGateway();
    const alice = connect(url);
    await alice.client.join('r');
    const sends: Promise<ChatMessage>[] = [];
    let waiting = -1;
    alice.client.on('state', (state) => {
      if (state !== 'reconnecting' || sends.length > 0) return;
      sends.push(alice.client.send('r', 'a'), alice.client.send('r', 'b'));
      waiting = alice.client.pending();
    });
    drop(alice.client.session!.user.id);
    await eventually(() => expect(sends).toHaveLength(2));
    expect(waiting).toBe(2);
    const sent = await Promise.all(sends);
    expect(sent.map((m) => [m.seq, m.text])).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
    await eventually(() => expect(alice.texts()).toEqual(['a', 'b']));
  });

  it('tries the next URL when one does not answer', async () => {
    const { url } = await startGateway();
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}`;
    await new Promise((resolve) => dead.close(resolve));
    const alice = connect([deadUrl, url]);
    await alice.client.join('r');
    await eventually(() => expect(alice.states).toEqual(['reconnecting', 'connected']));
  });

  it('leaves a room: its messages stop, its waiting sends are dropped', async () => {
    const { url } = await startGateway();
    const alice = connect(url);
    const bob = connect(url, { name: 'bob' });
    await alice.client.join('r');
    await bob.client.join('r');
    await bob.client.leave('r');
    await alice.client.send('r', 'gone already?');
    await alice.client.send('r', 'yes');
    await eventually(() => expect(alice.texts()).toEqual(['gone already?', 'yes']));
    expect(bob.texts()).toEqual([]);
    const members = await alice.client.rooms();
    expect(members).toEqual([expect.objectContaining({ room: 'r', members: 1 })]);
  });

  it('closes: waiting joins and sends are rejected, nothing more is sent', async () => {
    const { url } = await startGateway();
    const alice = connect(url);
    const join = alice.client.join('r');
    const send = alice.client.send('r', 'never');
    alice.client.close();
    await expect(join).rejects.toMatchObject({ code: 'UNAVAILABLE', message: 'client closed' });
    await expect(send).rejects.toMatchObject({ code: 'UNAVAILABLE', message: 'client closed' });
    await expect(alice.client.send('r', 'after')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(alice.client.state).toBe('closed');
    expect(alice.states).toEqual(['closed']);
    alice.client.close();
    expect(alice.states).toEqual(['closed']);
  });

  it('stops for good on a refused fixed token, and asks a token function again', async () => {
    const { url } = await startGateway({ auth: { guests: false } });
    const fixed = connect(url, { token: 'aa.bb.cc', name: undefined });
    const refusals: string[] = [];
    fixed.client.on('unauthorized', (e) => refusals.push(e.code));
    await eventually(() => expect(fixed.client.state).toBe('closed'));
    expect(refusals).toEqual(['UNAUTHORIZED']);

    let asked = 0;
    const fresh = connect(url, {
      token: async () => {
        asked += 1;
        if (asked === 3) throw new Error('no session');
        return 'aa.bb.cc';
      },
    });
    const messages: string[] = [];
    fresh.client.on('unauthorized', (e) => messages.push(e.message));
    await eventually(() => expect(asked).toBeGreaterThanOrEqual(4));
    expect(fresh.client.state).toBe('reconnecting');
    expect(messages).toContain('no token: no session');
  });

  it('comes back as a new guest when its guest token is refused', async () => {
    const { url } = await startGateway();
    const alice = connect(url, { guestToken: 'aa.bb.cc' });
    const refusals: string[] = [];
    alice.client.on('unauthorized', (e) => refusals.push(e.code));
    await connected(alice.client);
    expect(refusals).toEqual(['UNAUTHORIZED']);
    expect(alice.client.session!.user).toMatchObject({ name: 'alice', guest: true });
  });

  it('is the same guest again with the guest token of an earlier session', async () => {
    const { url } = await startGateway();
    const first = connect(url);
    await connected(first.client);
    const { user, guestToken } = first.client.session!;
    first.client.close();
    const again = connect(url, { guestToken: guestToken!, name: undefined });
    await connected(again.client);
    expect(again.client.session!.user).toEqual(user);
  });

  it('reports typing of others in a joined room, and not its own', async () => {
    const { url } = await startGateway();
    const alice = connect(url);
    const bob = connect(url, { name: 'bob' });
    await alice.client.join('r');
    await bob.client.join('r');
    const heard: string[] = [];
    bob.client.on('typing', (e) => heard.push(`${e.user.name} ${e.typing}`));
    const self: string[] = [];
    alice.client.on('typing', (e) => self.push(e.user.name));
    alice.client.typing('r', true);
    await eventually(() => expect(heard).toEqual(['alice true']));
    expect(bob.client.typingIn('r').map((u) => u.name)).toEqual(['alice']);
    await alice.client.send('r', 'done');
    await eventually(() => expect(heard).toEqual(['alice true', 'alice false']));
    expect(self).toEqual([]);
  });
});
