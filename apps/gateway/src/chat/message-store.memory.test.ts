import { describe, expect, it } from 'vitest';
import { MemoryMessageStore } from './message-store.memory';

const user = { id: 'u1', name: 'alice' };

// The embedded store's own edges; what both twins must do is in message-store.test.ts.
describe('MemoryMessageStore', () => {
  it('stores a message without an idempotency key without a clientMsgId field', async () => {
    const store = new MemoryMessageStore();
    const { message } = await store.append({ room: 'r', user, text: 'x', ts: 1 });
    expect('clientMsgId' in message).toBe(false);
    const keyed = await store.append({ room: 'r', user, text: 'y', ts: 1, clientMsgId: 'k' });
    expect(keyed.message.clientMsgId).toBe('k');
  });

  it('reads at most `limit` messages after a position', async () => {
    const store = new MemoryMessageStore();
    for (let i = 0; i < 5; i++) await store.append({ room: 'r', user, text: `${i}`, ts: 1 });
    const page = await store.after('r', 1, 2);
    expect(page.messages.map((m) => m.seq)).toEqual([2, 3]);
    expect(page.complete).toBe(true);
  });

  it('reads an empty room as complete from the start', async () => {
    const store = new MemoryMessageStore();
    expect(await store.after('r', 0, 10)).toMatchObject({ messages: [], complete: true });
  });
});
