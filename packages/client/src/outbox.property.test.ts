import type { Ack, ChatMessage, MessageSendPayload, MessageSendResult } from '@chorus/protocol';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { Outbox } from './outbox';

type Outcome = 'ok' | 'rate-limited' | 'unavailable' | 'ack-lost' | 'refused';

/**
 * A server for the outbox: it stores a send the first time it accepts its clientMsgId (and answers the original
 * for a repeat), and answers each attempt as the script says. Reconnects swap the connection object.
 */
function fakeServer(outcomes: Outcome[]) {
  const stored = new Map<string, ChatMessage[]>();
  const byId = new Map<string, ChatMessage>();
  let attempt = 0;
  let connection = { n: 0 };
  return {
    stored,
    reconnect: () => (connection = { n: connection.n + 1 }),
    transport: {
      current: () => connection,
      wantsRoom: () => true,
      retrying: () => {},
      send: async (_c: object, payload: MessageSendPayload): Promise<Ack<MessageSendResult>> => {
        // The script, then every attempt succeeds: the network recovers in the end.
        const outcome = outcomes[attempt++] ?? 'ok';
        const store = () => {
          const id = payload.clientMsgId!;
          const seen = byId.get(id);
          if (seen) return seen;
          const list = stored.get(payload.room) ?? [];
          const message = {
            id,
            room: payload.room,
            text: payload.text,
            seq: list.length + 1,
          } as unknown as ChatMessage;
          list.push(message);
          stored.set(payload.room, list);
          byId.set(id, message);
          return message;
        };
        if (outcome === 'ok') return { ok: true, message: store() };
        if (outcome === 'ack-lost') {
          store();
          throw new Error('no ack');
        }
        if (outcome === 'refused') return { ok: false, error: { code: 'FORBIDDEN', message: 'no' } };
        const code = outcome === 'rate-limited' ? 'RATE_LIMITED' : 'UNAVAILABLE';
        return { ok: false, error: { code, message: 'later', retryAfterMs: 1 } };
      },
    },
  };
}

describe('the outbox, any interleaving of outcomes and reconnects', () => {
  it('stores each room’s sends once, in the order they were made, and settles every one', async () => {
    vi.useFakeTimers();
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.constantFrom<Outcome>('ok', 'ok', 'ok', 'rate-limited', 'unavailable', 'ack-lost'), {
            minLength: 1,
            maxLength: 30,
          }),
          fc.array(fc.record({ room: fc.constantFrom('a', 'b'), reconnectAfter: fc.boolean() }), {
            minLength: 1,
            maxLength: 25,
          }),
          async (outcomes, sends) => {
            const server = fakeServer(outcomes);
            const outbox = new Outbox(server.transport);
            const settled: Promise<ChatMessage>[] = [];
            const made: Record<string, string[]> = { a: [], b: [] };
            for (const [i, send] of sends.entries()) {
              made[send.room]!.push(`m${i}`);
              settled.push(outbox.add(send.room, `m${i}`, `id-${i}`));
              if (send.reconnectAfter) {
                server.reconnect();
                outbox.connectionLost();
                outbox.flush();
              }
              await vi.advanceTimersByTimeAsync(1);
            }
            // Let every retry run (backoff is at most 5 s).
            for (let round = 0; round < 200 && outbox.size > 0; round++)
              await vi.advanceTimersByTimeAsync(5_000);
            expect(outbox.size).toBe(0);
            await Promise.all(settled);
            for (const room of ['a', 'b']) {
              expect((server.stored.get(room) ?? []).map((m) => m.text)).toEqual(made[room]);
            }
          },
        ),
        { numRuns: 200, seed: 20261201 },
      );
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps a later send waiting while an earlier one of the same room is retried', async () => {
    const server = fakeServer(['rate-limited', 'ok', 'ok']);
    const outbox = new Outbox(server.transport);
    vi.useFakeTimers();
    try {
      const first = outbox.add('a', 'first', 'id-1');
      const second = outbox.add('a', 'second', 'id-2');
      await vi.advanceTimersByTimeAsync(10_000);
      await Promise.all([first, second]);
      expect(server.stored.get('a')!.map((m) => m.text)).toEqual(['first', 'second']);
    } finally {
      vi.useRealTimers();
    }
  });
});
