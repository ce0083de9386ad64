import { type ChorusClient, createChorusClient } from '@chorus/client';
import type { ChatMessage } from '@chorus/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, useCluster } from '../support/hooks';
import { eventually } from '../support/wait';

describe.each(BACKENDS)('on %s', (backend) => {
  const cluster = useCluster({ gateways: 3, backend });
  const clients: ChorusClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  function client(urls: string[], name: string) {
    const c = createChorusClient({
      urls,
      name,
      reconnectDelayMs: { min: 50, max: 300 },
      ackTimeoutMs: 2_000,
    });
    clients.push(c);
    const received: ChatMessage[] = [];
    c.on('message', (m) => received.push(m));
    return { c, received, seqs: (room: string) => received.filter((m) => m.room === room).map((m) => m.seq) };
  }

  describe('client SDK', () => {
    it('joins, sends and receives across gateways, each message once', async () => {
      const [a, b] = cluster.gateways;
      const alice = client([a!.url], 'alice');
      const bob = client([b!.url], 'bob');
      await alice.c.join('lobby');
      await bob.c.join('lobby');
      const sent = await alice.c.send('lobby', 'hi bob');
      expect(sent).toMatchObject({ seq: 1, text: 'hi bob', user: { name: 'alice' } });
      await eventually(() => expect(bob.seqs('lobby')).toEqual([1]));
      await eventually(() => expect(alice.seqs('lobby')).toEqual([1]));
    });

    it('resumes from its last seq after its connection drops, missing nothing and repeating nothing', async () => {
      const [a, b] = cluster.gateways;
      const sender = client([a!.url], 'sender');
      const reader = client([b!.url], 'reader');
      await sender.c.join('r');
      await reader.c.join('r');
      for (let i = 0; i < 5; i++) await sender.c.send('r', `before ${i}`);
      await eventually(() => expect(reader.seqs('r')).toHaveLength(5));

      const resumed = new Promise<{ ms: number }>((resolve) => reader.c.on('resumed', resolve));
      // Drop the reader's transport from the server side, then keep sending while it is away.
      for (const socket of b!.gateway.io.of('/').sockets.values()) socket.conn.close();
      for (let i = 0; i < 5; i++) await sender.c.send('r', `during ${i}`);
      await resumed;
      for (let i = 0; i < 5; i++) await sender.c.send('r', `after ${i}`);
      await eventually(() => expect(reader.seqs('r')).toEqual(Array.from({ length: 15 }, (_, i) => i + 1)));
    });

    it('moves to another gateway when its gateway stops, and delivers its outbox exactly once', async () => {
      const [a, b, c] = cluster.gateways;
      const mover = client([a!.url, b!.url, c!.url], 'mover');
      const watcher = client([c!.url], 'watcher');
      await mover.c.join('r');
      await watcher.c.join('r');
      expect(mover.c.session?.node).toBe('gw-1');
      await a!.stop();
      const sends = Array.from({ length: 10 }, (_, i) => mover.c.send('r', `m${i}`));
      const acked = await Promise.all(sends);
      expect(mover.c.session?.node).not.toBe('gw-1');
      expect(new Set(acked.map((m) => m.seq)).size).toBe(10);
      await eventually(() => expect(watcher.seqs('r')).toHaveLength(10));
      const texts = watcher.received.map((m) => m.text).sort();
      expect(texts).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`).sort());
    });

    it('stores a retried send once when the same clientMsgId is used again', async () => {
      const [a] = cluster.gateways;
      const alice = client([a!.url], 'alice');
      await alice.c.join('r');
      const first = await alice.c.send('r', 'once', { clientMsgId: 'fixed-id' });
      const again = await alice.c.send('r', 'once', { clientMsgId: 'fixed-id' });
      expect(again).toEqual(first);
      expect(await alice.c.history('r')).toHaveLength(1);
    });

    it('rejects a send the server refuses for good, and keeps working', async () => {
      const [a] = cluster.gateways;
      const alice = client([a!.url], 'alice');
      await alice.c.join('r');
      await expect(alice.c.send('r', '   ')).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
      expect(alice.c.pending()).toBe(0);
      await expect(alice.c.send('r', 'fine')).resolves.toMatchObject({ seq: 1 });
    });
  });

  describe('client SDK joins', () => {
    it('joins rooms asked for one after another on a fresh client', async () => {
      const [a] = cluster.gateways;
      const alice = client([a!.url], 'alice');
      await alice.c.join('first');
      await alice.c.join('second');
      await alice.c.join('third');
      await alice.c.send('third', 'hello');
      await eventually(() => expect(alice.seqs('third')).toEqual([1]));
    });
  });
});
