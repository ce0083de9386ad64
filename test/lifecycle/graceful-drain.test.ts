import { type ChorusClient, createChorusClient } from '@chorus/client';
import type { ChatMessage } from '@chorus/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { connectClient, connectPlain } from '../support/clients';
import { useCluster } from '../support/hooks';
import { eventually, sleep } from '../support/wait';

const cluster = useCluster({ gateways: 2 });
const sdkClients: ChorusClient[] = [];
afterEach(() => {
  for (const c of sdkClients.splice(0)) c.close();
});

function sdk(urls: string[], name: string) {
  const client = createChorusClient({
    urls,
    name,
    reconnectDelayMs: { min: 20, max: 200 },
    ackTimeoutMs: 2_000,
  });
  sdkClients.push(client);
  const received: ChatMessage[] = [];
  const resumed: string[] = [];
  client.on('message', (m) => received.push(m));
  client.on('resumed', (e) => resumed.push(e.node));
  return { client, received, resumed };
}

describe('graceful drain', () => {
  it('turns readiness to 503 before moving anyone, and refuses new connections while draining', async () => {
    const [a] = cluster.gateways;
    await connectClient(a!.url, { name: 'stays-until-moved' });
    const closing = a!.gateway.close({ noticeMs: 800 });
    await eventually(async () => expect((await fetch(`${a!.url}/readyz`)).status).toBe(503));
    expect((await fetch(`${a!.url}/healthz`)).status).toBe(200);
    expect(a!.gateway.io.of('/').sockets.size).toBe(1);
    // Refused at the handshake (the server answers 403 to a draining gateway's new sessions).
    await expect(connectClient(a!.url, { name: 'late' })).rejects.toThrow(
      /xhr poll error|websocket error|403/i,
    );
    await expect(connectPlain(a!.url, { room: 'r', name: 'late' })).rejects.toThrow(/503/);
    await closing;
    expect(a!.gateway.io.of('/').sockets.size).toBe(0);
  });

  it('moves its clients to another gateway, where they resume without losing or repeating a message', async () => {
    const [a, b] = cluster.gateways;
    const mover = sdk([a!.url, b!.url], 'mover');
    const stayer = sdk([b!.url], 'stayer');
    await mover.client.join('r');
    await stayer.client.join('r');
    for (let i = 0; i < 5; i++) await stayer.client.send('r', `before ${i}`);

    const drained = a!.gateway.close({ noticeMs: 100, batchSize: 1, batchIntervalMs: 10 });
    const during = Array.from({ length: 10 }, (_, i) => stayer.client.send('r', `during ${i}`));
    await drained;
    await Promise.all(during);
    for (let i = 0; i < 5; i++) await mover.client.send('r', `after ${i}`);

    await eventually(() => expect(mover.resumed).toEqual(['gw-2']));
    const expected = Array.from({ length: 20 }, (_, i) => i + 1);
    await eventually(() => expect(mover.received.map((m) => m.seq)).toEqual(expected));
    await eventually(() => expect(stayer.received.map((m) => m.seq)).toEqual(expected));
  });

  it('waits for a send it already accepted before it stops and lets go of Redis, so the message is stored', async () => {
    const [a, b] = cluster.gateways;
    const alice = await connectClient(a!.url, { name: 'alice' });
    await alice.ok('room:join', { room: 'r' });
    // Hold Redis writes for longer than closing the Redis connections may take (1 s): a gateway that did not
    // wait for the send would drop its connection with the append still queued, and the message would be lost.
    await cluster.redis.connect().call('CLIENT', 'PAUSE', '1500', 'WRITE');
    const pending = alice.request('message:send', { room: 'r', text: 'last words' });
    await sleep(150);
    const started = Date.now();
    await a!.stop();
    expect(Date.now() - started).toBeGreaterThan(1_000);
    // The send was appended and acknowledged before its client was moved off and before Redis was let go.
    expect(await pending).toMatchObject({ ok: true, message: { text: 'last words' } });
    expect((await a!.metrics.totals()).messagesIn).toBe(1);
    const reader = await connectClient(b!.url, { name: 'reader' });
    const { history } = await reader.ok('room:join', { room: 'r' });
    expect(history.map((m) => m.text)).toEqual(['last words']);
  });

  it('tells plain WebSocket clients to reconnect (1012) and drops its members from the room', async () => {
    const [a, b] = cluster.gateways;
    const plain = await connectPlain(a!.url, { room: 'r', name: 'seed' });
    const watcher = await connectClient(b!.url, { name: 'watcher' });
    await eventually(async () => {
      const { members } = await watcher.ok('room:join', { room: 'r' });
      expect(members.map((u) => u.name)).toContain('seed');
    });
    const closed = new Promise<number>((resolve) => plain.ws.once('close', (code) => resolve(code)));
    await a!.gateway.close();
    expect(await closed).toBe(1012);
    const { members } = await watcher.ok('room:join', { room: 'r' });
    expect(members.map((u) => u.name)).toEqual(['watcher']);
  });
});
