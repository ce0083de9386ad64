import { LIMITS } from '@chorus/protocol';
import { describe, expect, it } from 'vitest';
import { connectClient, type TestClient } from '../support/clients';
import { BACKENDS, useCluster } from '../support/hooks';

describe.each(BACKENDS)('on %s', (backend) => {
  const cluster = useCluster({ gateways: 3, backend });

  async function sendMany(client: TestClient, room: string, count: number) {
    for (let i = 1; i <= count; i++) await client.ok('message:send', { room, text: `m${i}` });
  }

  describe('history', () => {
    it('gives a joiner the latest 50 messages, oldest first', async () => {
      const [a, b] = cluster.gateways;
      const alice = await connectClient(a!.url, { name: 'alice' });
      await alice.ok('room:join', { room: 'lobby' });
      await sendMany(alice, 'lobby', 60);
      const bob = await connectClient(b!.url, { name: 'bob' });
      const { history } = await bob.ok('room:join', { room: 'lobby' });
      expect(history).toHaveLength(LIMITS.joinHistory);
      expect(history.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 11));
      expect(history[0]).toMatchObject({ text: 'm11', user: alice.session.user, room: 'lobby' });
    });

    it('pages backwards with before and limit until the first message', async () => {
      const [a, b] = cluster.gateways;
      const alice = await connectClient(a!.url, { name: 'alice' });
      await alice.ok('room:join', { room: 'paged' });
      await sendMany(alice, 'paged', 120);
      const bob = await connectClient(b!.url, { name: 'bob' });
      await bob.ok('room:join', { room: 'paged' });

      const seen: number[] = [];
      let before: number | undefined;
      for (;;) {
        const { messages } = await bob.ok('history:get', {
          room: 'paged',
          limit: 35,
          ...(before ? { before } : {}),
        });
        if (messages.length === 0) break;
        expect(messages.length).toBeLessThanOrEqual(35);
        expect(messages.map((m) => m.seq)).toEqual([...messages.map((m) => m.seq)].sort((x, y) => x - y));
        seen.unshift(...messages.map((m) => m.seq));
        before = messages[0]!.seq;
      }
      expect(seen).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    });

    it('returns 50 messages by default and at most 100', async () => {
      const [a] = cluster.gateways;
      const alice = await connectClient(a!.url, { name: 'alice' });
      await alice.ok('room:join', { room: 'sizes' });
      await sendMany(alice, 'sizes', 110);
      expect((await alice.ok('history:get', { room: 'sizes' })).messages).toHaveLength(50);
      expect(
        (await alice.ok('history:get', { room: 'sizes', limit: 100 })).messages.map((m) => m.seq),
      ).toEqual(Array.from({ length: 100 }, (_, i) => i + 11));
      expect(
        (await alice.ok('history:get', { room: 'sizes', before: 4, limit: 100 })).messages.map((m) => m.seq),
      ).toEqual([1, 2, 3]);
    });

    it('keeps history and seq when the gateway that wrote it is gone', async () => {
      const [a, b] = cluster.gateways;
      const alice = await connectClient(a!.url, { name: 'alice' });
      await alice.ok('room:join', { room: 'durable' });
      await sendMany(alice, 'durable', 5);
      await a!.stop();

      const bob = await connectClient(b!.url, { name: 'bob' });
      const { history } = await bob.ok('room:join', { room: 'durable' });
      expect(history.map((m) => m.text)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
      const { message } = await bob.ok('message:send', { room: 'durable', text: 'next' });
      expect(message.seq).toBe(6);
      expect(message.epoch).toBe(history[0]!.epoch);
    });

    it('reads the same history from every gateway', async () => {
      const clients = await Promise.all(
        cluster.gateways.map((g, i) => connectClient(g.url, { name: `c${i}` })),
      );
      for (const client of clients) await client.ok('room:join', { room: 'shared' });
      await sendMany(clients[1]!, 'shared', 7);
      const pages = await Promise.all(clients.map((c) => c.ok('history:get', { room: 'shared' })));
      for (const page of pages) expect(page.messages).toEqual(pages[0]!.messages);
    });
  });
});
