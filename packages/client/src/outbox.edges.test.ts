import {
  type Ack,
  type ChatMessage,
  ChorusError,
  type MessageSendPayload,
  type MessageSendResult,
} from '@chorus/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isFinal, newClientMsgId, Outbox, RETRYABLE } from './outbox';

/** A send on the wire: the test answers it (or lets it time out) when it wants. */
interface Attempt {
  connection: object;
  payload: MessageSendPayload;
  answer(ack: Ack<MessageSendResult>): void;
  timeOut(): void;
}

function harness() {
  const attempts: Attempt[] = [];
  const retries: unknown[] = [];
  const left = new Set<string>();
  let connection: object | undefined = { n: 1 };
  const outbox = new Outbox({
    current: () => connection,
    wantsRoom: (room) => !left.has(room),
    retrying: (event) => retries.push(event),
    send: (c, payload) =>
      new Promise<Ack<MessageSendResult>>((resolve, reject) => {
        attempts.push({
          connection: c,
          payload,
          answer: resolve,
          timeOut: () => reject(new Error('timeout')),
        });
      }),
  });
  const stored = (payload: MessageSendPayload, seq = 1): Ack<MessageSendResult> => ({
    ok: true,
    message: { id: `e:${seq}`, room: payload.room, text: payload.text, seq } as unknown as ChatMessage,
  });
  return {
    outbox,
    attempts,
    retries,
    stored,
    texts: () => attempts.map((a) => a.payload.text),
    leave: (room: string) => left.add(room),
    disconnect: () => {
      connection = undefined;
      outbox.connectionLost();
    },
    reconnect: () => {
      connection = { n: Math.random() };
      outbox.connectionLost();
      outbox.flush();
    },
  };
}

/** Lets promise callbacks run (the outbox reacts to answers in `then`). */
const tick = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('which refusals the outbox retries', () => {
  it('retries passing errors and gives up on the rest', () => {
    expect([...RETRYABLE].sort()).toEqual(['INTERNAL', 'NOT_IN_ROOM', 'RATE_LIMITED', 'UNAVAILABLE']);
    for (const code of RETRYABLE) expect(isFinal(new ChorusError(code, 'later'))).toBe(false);
    expect(isFinal(new ChorusError('FORBIDDEN', 'no'))).toBe(true);
    expect(isFinal(new ChorusError('INVALID_PAYLOAD', 'no'))).toBe(true);
    expect(isFinal(new Error('FORBIDDEN'))).toBe(false);
  });

  for (const code of ['INTERNAL', 'NOT_IN_ROOM', 'RATE_LIMITED', 'UNAVAILABLE'] as const) {
    it(`sends again, with the same clientMsgId, after ${code}`, async () => {
      const h = harness();
      const sent = h.outbox.add('a', 'hi', 'id-1');
      h.attempts[0]!.answer({ ok: false, error: { code, message: 'later' } });
      await vi.advanceTimersByTimeAsync(10_000);
      expect(h.attempts).toHaveLength(2);
      expect(h.attempts[1]!.payload).toEqual({ room: 'a', text: 'hi', clientMsgId: 'id-1' });
      h.attempts[1]!.answer(h.stored(h.attempts[1]!.payload));
      await expect(sent).resolves.toMatchObject({ text: 'hi' });
      expect(h.outbox.size).toBe(0);
    });
  }
});

describe('the outbox', () => {
  it('sends at once on a live connection, and resolves with the stored message', async () => {
    const h = harness();
    const sent = h.outbox.add('a', 'hi', 'id-1');
    expect(h.outbox.size).toBe(1);
    expect(h.attempts.map((a) => a.payload)).toEqual([{ room: 'a', text: 'hi', clientMsgId: 'id-1' }]);
    h.attempts[0]!.answer(h.stored(h.attempts[0]!.payload, 7));
    await expect(sent).resolves.toMatchObject({ seq: 7, text: 'hi' });
    expect(h.outbox.size).toBe(0);
  });

  it('rejects a send refused for good with the server’s error, and sends the room’s next one', async () => {
    const h = harness();
    const first = h.outbox.add('a', 'one', 'id-1');
    const second = h.outbox.add('a', 'two', 'id-2');
    expect(h.texts()).toEqual(['one']);
    h.attempts[0]!.answer({
      ok: false,
      error: { code: 'INVALID_PAYLOAD', message: 'bad', details: [{ path: 'text', message: 'too long' }] },
    });
    const error = await first.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChorusError);
    expect(error).toMatchObject({
      code: 'INVALID_PAYLOAD',
      message: 'bad',
      details: [{ path: 'text', message: 'too long' }],
    });
    expect(h.texts()).toEqual(['one', 'two']);
    h.attempts[1]!.answer(h.stored(h.attempts[1]!.payload));
    await expect(second).resolves.toMatchObject({ text: 'two' });
  });

  it('gives up a passing error when the client left the room', async () => {
    const h = harness();
    const sent = h.outbox.add('a', 'hi', 'id-1');
    h.leave('a');
    h.attempts[0]!.answer({
      ok: false,
      error: { code: 'RATE_LIMITED', message: 'slow down', retryAfterMs: 5 },
    });
    await expect(sent).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.attempts).toHaveLength(1);
  });

  it('tells when it will try again: the attempt number, and the code when there was an answer', async () => {
    const h = harness();
    void h.outbox.add('a', 'hi', 'id-1');
    h.attempts[0]!.answer({ ok: false, error: { code: 'UNAVAILABLE', message: 'draining' } });
    await tick();
    expect(h.retries).toEqual([{ room: 'a', clientMsgId: 'id-1', attempts: 1, code: 'UNAVAILABLE' }]);
    await vi.advanceTimersByTimeAsync(10_000);
    h.attempts[1]!.timeOut();
    await tick();
    expect(h.retries[1]).toStrictEqual({ room: 'a', clientMsgId: 'id-1', attempts: 2 });
  });

  it('waits what the server asked, and up to a fifth more, spread', async () => {
    for (const [random, wait] of [
      [0, 1_000],
      [0.5, 1_100],
    ] as const) {
      vi.spyOn(Math, 'random').mockReturnValue(random);
      const h = harness();
      void h.outbox.add('a', 'hi', 'id-1').catch(() => {});
      h.attempts[0]!.answer({
        ok: false,
        error: { code: 'RATE_LIMITED', message: 'later', retryAfterMs: 1_000 },
      });
      await tick();
      await vi.advanceTimersByTimeAsync(wait - 1);
      expect(h.attempts).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(h.attempts).toHaveLength(2);
      h.outbox.rejectAll(new ChorusError('UNAVAILABLE', 'closed'));
    }
  });

  it('backs off exponentially from 200 ms, spread down to half, up to 5 s', async () => {
    for (const [random, waits] of [
      [0, [100, 200, 400, 800, 1_600, 2_500, 2_500, 2_500]],
      [0.5, [150, 300, 600, 1_200, 2_400, 3_750, 3_750, 3_750]],
    ] as const) {
      vi.spyOn(Math, 'random').mockReturnValue(random);
      const h = harness();
      void h.outbox.add('a', 'hi', 'id-1').catch(() => {});
      const waited: number[] = [];
      for (let attempt = 1; attempt <= waits.length; attempt++) {
        h.attempts[attempt - 1]!.timeOut();
        await tick();
        let ms = 0;
        while (h.attempts.length === attempt) {
          await vi.advanceTimersByTimeAsync(1);
          ms += 1;
        }
        waited.push(ms);
      }
      expect(waited).toEqual(waits);
      h.outbox.rejectAll(new ChorusError('UNAVAILABLE', 'closed'));
    }
  });

  it('sends nothing without a connection, and everything waiting once one is back', async () => {
    const h = harness();
    h.disconnect();
    const sent = h.outbox.add('a', 'hi', 'id-1');
    void h.outbox.add('b', 'yo', 'id-2');
    expect(h.attempts).toHaveLength(0);
    h.reconnect();
    expect(h.texts()).toEqual(['hi', 'yo']);
    h.attempts[0]!.answer(h.stored(h.attempts[0]!.payload));
    await expect(sent).resolves.toMatchObject({ text: 'hi' });
  });

  it('does not send again what is in flight on the current connection, but does after a reconnect', async () => {
    const h = harness();
    const sent = h.outbox.add('a', 'hi', 'id-1');
    h.outbox.flush();
    h.outbox.flush();
    expect(h.attempts).toHaveLength(1);
    h.reconnect();
    expect(h.attempts).toHaveLength(2);
    expect(h.attempts[1]!.connection).not.toBe(h.attempts[0]!.connection);
    expect(h.attempts[1]!.payload.clientMsgId).toBe('id-1');
    // The first connection's attempt never gets an answer; the second's does.
    h.attempts[0]!.timeOut();
    h.attempts[1]!.answer(h.stored(h.attempts[1]!.payload));
    await expect(sent).resolves.toMatchObject({ text: 'hi' });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.attempts).toHaveLength(2);
  });

  it('ignores a late answer to an earlier attempt of a send already settled', async () => {
    const h = harness();
    const first = h.outbox.add('a', 'one', 'id-1');
    h.reconnect();
    h.attempts[1]!.answer(h.stored(h.attempts[1]!.payload, 1));
    await expect(first).resolves.toMatchObject({ seq: 1 });
    const second = h.outbox.add('a', 'two', 'id-2');
    expect(h.texts()).toEqual(['one', 'one', 'two']);
    // The first connection answers at last, refusing: it must not touch the settled send, nor the next one.
    h.attempts[0]!.answer({ ok: false, error: { code: 'FORBIDDEN', message: 'late' } });
    h.attempts[0]!.timeOut();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.outbox.size).toBe(1);
    expect(h.texts()).toEqual(['one', 'one', 'two']);
    h.attempts[2]!.answer(h.stored(h.attempts[2]!.payload, 2));
    await expect(second).resolves.toMatchObject({ seq: 2 });
  });

  it('sends a room’s next send as soon as the one before it is settled, whatever other rooms wait on', async () => {
    const h = harness();
    void h.outbox.add('b', 'b1', 'id-1');
    const a1 = h.outbox.add('a', 'a1', 'id-2');
    void h.outbox.add('b', 'b2', 'id-3');
    void h.outbox.add('a', 'a2', 'id-4');
    expect(h.texts()).toEqual(['b1', 'a1']);
    h.attempts[1]!.answer(h.stored(h.attempts[1]!.payload));
    await a1;
    expect(h.texts()).toEqual(['b1', 'a1', 'a2']);
  });

  it('does not let a late answer to an earlier attempt cut short the next send’s backoff', async () => {
    const h = harness();
    const first = h.outbox.add('a', 'one', 'id-1');
    h.reconnect();
    h.attempts[1]!.answer(h.stored(h.attempts[1]!.payload, 1));
    await first;
    void h.outbox.add('a', 'two', 'id-2');
    h.attempts[2]!.answer({
      ok: false,
      error: { code: 'RATE_LIMITED', message: 'later', retryAfterMs: 5_000 },
    });
    await tick();
    // The first connection's answer to the first send comes in now.
    h.attempts[0]!.answer(h.stored(h.attempts[0]!.payload, 1));
    await vi.advanceTimersByTimeAsync(4_000);
    expect(h.texts()).toEqual(['one', 'one', 'two']);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(h.texts()).toEqual(['one', 'one', 'two', 'two']);
  });

  it('does not retry on a timeout of an attempt the send no longer waits for', async () => {
    const h = harness();
    const first = h.outbox.add('a', 'one', 'id-1');
    h.reconnect();
    h.attempts[1]!.answer(h.stored(h.attempts[1]!.payload));
    await first;
    // The first connection's attempt times out after the send was settled on the second.
    h.attempts[0]!.timeOut();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.attempts).toHaveLength(2);
    expect(h.retries).toEqual([]);
  });

  it('sends again on the same connection object once told the connection was lost', async () => {
    const h = harness();
    void h.outbox.add('a', 'one', 'id-1');
    h.outbox.connectionLost();
    h.outbox.flush();
    expect(h.texts()).toEqual(['one', 'one']);
  });

  it('keeps an attempt on the new connection counted as in flight when one on the old connection fails', async () => {
    const h = harness();
    void h.outbox.add('a', 'one', 'id-1');
    h.reconnect();
    expect(h.attempts).toHaveLength(2);
    // The old connection's attempt fails after the new one went out: a flush must not send a third.
    h.attempts[0]!.answer({ ok: false, error: { code: 'UNAVAILABLE', message: 'gone' } });
    await tick();
    h.outbox.flush();
    expect(h.attempts).toHaveLength(2);
  });

  it('drops one room’s sends without sending the next of that room, and leaves other rooms alone', async () => {
    const h = harness();
    const a1 = h.outbox.add('a', 'a1', 'id-1');
    const a2 = h.outbox.add('a', 'a2', 'id-2');
    const b1 = h.outbox.add('b', 'b1', 'id-3');
    h.outbox.dropRoom('a', new ChorusError('NOT_IN_ROOM', 'left'));
    await expect(a1).rejects.toMatchObject({ code: 'NOT_IN_ROOM' });
    await expect(a2).rejects.toMatchObject({ code: 'NOT_IN_ROOM' });
    expect(h.texts()).toEqual(['a1', 'b1']);
    expect(h.outbox.size).toBe(1);
    h.attempts[1]!.answer(h.stored(h.attempts[1]!.payload));
    await expect(b1).resolves.toMatchObject({ text: 'b1' });
  });

  it('rejects everything on close without sending what waited', async () => {
    const h = harness();
    const a1 = h.outbox.add('a', 'a1', 'id-1');
    const a2 = h.outbox.add('a', 'a2', 'id-2');
    h.outbox.rejectAll(new ChorusError('UNAVAILABLE', 'closed'));
    await expect(a1).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(a2).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(h.texts()).toEqual(['a1']);
    expect(h.outbox.size).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.texts()).toEqual(['a1']);
  });

  it('cancels a pending retry when the send is dropped', async () => {
    const h = harness();
    const sent = h.outbox.add('a', 'a1', 'id-1');
    h.attempts[0]!.answer({ ok: false, error: { code: 'UNAVAILABLE', message: 'later' } });
    await tick();
    h.outbox.dropRoom('a', new ChorusError('NOT_IN_ROOM', 'left'));
    await expect(sent).rejects.toMatchObject({ code: 'NOT_IN_ROOM' });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.attempts).toHaveLength(1);
  });

  it('sends once per reconnect even when a retry was already scheduled', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const h = harness();
    void h.outbox.add('a', 'a1', 'id-1');
    h.attempts[0]!.answer({ ok: false, error: { code: 'UNAVAILABLE', message: 'later' } });
    await tick();
    // A retry is due in 100 ms; a reconnect sends now, and the scheduled retry must not send another.
    h.reconnect();
    expect(h.attempts).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(150);
    expect(h.attempts).toHaveLength(2);
  });
});

describe('newClientMsgId', () => {
  it('uses crypto.randomUUID where there is one', () => {
    vi.spyOn(globalThis.crypto, 'randomUUID').mockReturnValue('1-2-3-4-5');
    expect(newClientMsgId()).toBe('1-2-3-4-5');
  });

  it('makes 32 hex digits from random bytes where randomUUID is missing (plain-HTTP pages)', () => {
    vi.stubGlobal('crypto', {
      getRandomValues: (bytes: Uint8Array) => {
        bytes.forEach((_, i) => {
          bytes[i] = i * 17;
        });
        return bytes;
      },
    });
    try {
      expect(newClientMsgId()).toBe('00112233445566778899aabbccddeeff');
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
