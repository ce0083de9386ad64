import type { ChatMessage } from '@chorus/protocol';
import { describe, expect, it } from 'vitest';
import { useRedis } from '../../../../test/support/hooks';
import { uniquePrefix } from '../../../../test/support/redis';
import { eventually } from '../../../../test/support/wait';
import type { RoomBus } from '../bus/room-bus';
import { MemoryRoomBus } from '../bus/room-bus.memory';
import { RedisRoomBus } from '../bus/room-bus.redis';
import type { MessageStore } from './message-store';
import { MemoryMessageStore } from './message-store.memory';
import { RedisMessageStore } from './message-store.redis';

const alice = { id: 'u1', name: 'alice' };
const bob = { id: 'u2', name: 'bob' };

const redis = useRedis();

/** A store and the bus its appends are published on, as a gateway gets them. */
interface Twin {
  store: MessageStore;
  bus: RoomBus;
}
type Factory = (options: { historyCap?: number }) => Twin;
const implementations: [string, Factory][] = [
  [
    'MemoryMessageStore',
    (o) => {
      const bus = new MemoryRoomBus();
      return { bus, store: new MemoryMessageStore({ ...o, publish: (m) => bus.publishMessage(m) }) };
    },
  ],
  [
    'RedisMessageStore',
    (o) => {
      const prefix = uniquePrefix('msg');
      const commands = redis.connect();
      return {
        store: new RedisMessageStore(commands, { prefix, ...o }),
        bus: new RedisRoomBus(commands, redis.connect(), { prefix }),
      };
    },
  ],
];

describe.each(implementations)('%s', (_name, make) => {
  const create = (options: { historyCap?: number }) => make(options).store;

  /** A store, and what a gateway subscribed to `rooms` hears of them. */
  async function hearing(...rooms: string[]) {
    const { store, bus } = make({});
    const seen: ChatMessage[] = [];
    await bus.listen({ message: (m) => seen.push(m), presence: () => {}, resync: () => {} });
    for (const room of rooms) await bus.subscribe(room);
    return { store, bus, seen };
  }

  const send = (store: MessageStore, room: string, text: string, clientMsgId?: string) =>
    store.append({ room, user: alice, text, ts: 1_700_000_000_000, ...(clientMsgId ? { clientMsgId } : {}) });

  it('numbers a room’s messages 1, 2, 3… within one epoch', async () => {
    const store = create({});
    const a = await send(store, 'lobby', 'one');
    const b = await send(store, 'lobby', 'two');
    expect([a.message.seq, b.message.seq]).toEqual([1, 2]);
    expect(a.message.epoch).toBe(b.message.epoch);
    expect(a.message).toMatchObject({ room: 'lobby', user: alice, text: 'one', ts: 1_700_000_000_000 });
    expect(a.message.id).toBe(`${a.message.epoch}:1`);
  });

  it('keeps separate sequences per room', async () => {
    const store = create({});
    await send(store, 'a', 'x');
    await send(store, 'a', 'y');
    const other = await send(store, 'b', 'z');
    expect(other.message.seq).toBe(1);
  });

  it('gives unique consecutive seqs to concurrent appends', async () => {
    const store = create({});
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => send(store, 'busy', `m${i}`)));
    expect(results.map((r) => r.message.seq).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
  });

  it('returns the original message for a repeated clientMsgId and stores nothing new', async () => {
    const store = create({});
    const first = await send(store, 'idem', 'hello', 'c-1');
    const again = await send(store, 'idem', 'hello (retry)', 'c-1');
    expect(again.duplicate).toBe(true);
    expect(again.message).toEqual(first.message);
    expect(first.message.clientMsgId).toBe('c-1');
    expect((await store.latest('idem', 10)).messages).toHaveLength(1);
  });

  it('remembers clientMsgIds for the last historyCap messages of the room, no longer', async () => {
    const store = create({ historyCap: 100 });
    const first = await send(store, 'window', 'x', 'early');
    for (let i = 0; i < 99; i++) await send(store, 'window', `m${i}`, `id-${i}`);
    // Seq 1 is still within the last 100 messages: a repeat returns it.
    expect(await send(store, 'window', 'x', 'early')).toEqual({ message: first.message, duplicate: true });
    await send(store, 'window', 'one more', 'id-last');
    // Now seq 1 fell out of the window: the key is forgotten and the send is stored anew.
    const again = await send(store, 'window', 'x', 'early');
    expect(again.duplicate).toBe(false);
    expect(again.message.seq).toBe(102);
    expect(await send(store, 'window', 'm98', 'id-98')).toMatchObject({ duplicate: true });
  });

  it('returns the latest messages oldest first and pages backwards with before', async () => {
    const store = create({});
    for (let i = 1; i <= 7; i++) await send(store, 'paged', `m${i}`);
    const latest = await store.latest('paged', 3);
    expect(latest.messages.map((m) => m.text)).toEqual(['m5', 'm6', 'm7']);
    const older = await store.before('paged', 5, 3);
    expect(older.messages.map((m) => m.seq)).toEqual([2, 3, 4]);
    const oldest = await store.before('paged', 2, 3);
    expect(oldest.messages.map((m) => m.seq)).toEqual([1]);
    expect((await store.before('paged', 1, 3)).messages).toEqual([]);
  });

  it('reads forward after a seq and says whether the range is complete', async () => {
    // Redis trims whole stream nodes (100 entries by default), so append well past one node.
    const store = create({ historyCap: 5 });
    await Promise.all(Array.from({ length: 250 }, (_, i) => send(store, 'capped', `m${i + 1}`)));
    const page = await store.after('capped', 248, 10);
    expect(page.messages.map((m) => m.seq)).toEqual([249, 250]);
    expect(page.complete).toBe(true);
    const trimmed = await store.after('capped', 2, 10);
    expect(trimmed.complete).toBe(false);
    const upToDate = await store.after('capped', 250, 10);
    expect(upToDate).toMatchObject({ messages: [], complete: true });
  });

  it('caps the history it keeps', async () => {
    const store = create({ historyCap: 5 });
    await Promise.all(Array.from({ length: 250 }, (_, i) => send(store, 'cap', `m${i + 1}`)));
    const all = await store.before('cap', 251, 100);
    // Redis trims approximately (MAXLEN ~, whole nodes), so allow slack above the cap but far below 250.
    expect(all.messages.length).toBeGreaterThanOrEqual(5);
    expect((await store.after('cap', 0, 300)).messages.length).toBeLessThan(250);
    expect(all.messages.at(-1)?.seq).toBe(250);
  });

  it('reports the same epoch on reads as on appends', async () => {
    const store = create({});
    const empty = await store.latest('fresh', 10);
    const { message } = await send(store, 'fresh', 'hi');
    expect(message.epoch).toBe(empty.epoch);
  });

  it('gives every new room an epoch of its own, and another store (a restart, another gateway) other epochs', async () => {
    const store = create({});
    const epochs = new Set<string>();
    for (let i = 0; i < 50; i++) epochs.add((await store.latest(`new-${i}`, 1)).epoch);
    expect(epochs.size).toBe(50);
    const other = create({});
    // On Redis the room already has its epoch: only a room new to both can show the other store's.
    const again = (await other.latest('new-of-other', 1)).epoch;
    expect(epochs.has(again)).toBe(false);
    for (const epoch of epochs) expect(epoch).toMatch(/^[0-9a-z]{11,}$/);
  });

  it('publishes every append to the gateways hearing its room, in seq order, and no other room', async () => {
    const { store, bus, seen } = await hearing('live');
    await Promise.all(Array.from({ length: 30 }, (_, i) => send(store, 'live', `m${i}`)));
    await send(store, 'unheard', 'elsewhere');
    await eventually(() => expect(seen.filter((m) => m.room === 'live')).toHaveLength(30));
    expect(seen.map((m) => m.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    bus.unsubscribe('live');
    await send(store, 'live', 'after');
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toHaveLength(30);
    expect(seen.every((m) => m.room === 'live')).toBe(true);
  });

  it('does not publish a duplicate send', async () => {
    const { store, seen } = await hearing('dup');
    await send(store, 'dup', 'x', 'same');
    await send(store, 'dup', 'x', 'same');
    await send(store, 'dup', 'y');
    await eventually(() => expect(seen.map((m) => m.text)).toEqual(['x', 'y']));
  });

  it('keeps text that needs escaping intact', async () => {
    const store = create({});
    const text = 'quote " backslash \\ slash / emoji 😀 <b>tag</b> \u2028 nul-ish \u0001';
    const { message } = await store.append({ room: 'esc', user: bob, text, ts: 1 });
    expect(message.text).toBe(text);
    expect((await store.latest('esc', 1)).messages[0]?.text).toBe(text);
  });

  // The protocol refuses such text; the stores must still agree on it rather than fail half-way.
  it('stores and publishes text with a lone surrogate exactly as given', async () => {
    const { store, seen } = await hearing('odd');
    const lone = 'a\ud800b\udfffc';
    const { message } = await send(store, 'odd', lone);
    const next = await send(store, 'odd', 'after');
    expect([message.seq, next.message.seq]).toEqual([1, 2]);
    expect((await store.latest('odd', 10)).messages.map((m) => m.text)).toEqual([lone, 'after']);
    await eventually(() => expect(seen.map((m) => m.text)).toEqual([lone, 'after']));
  });
});

describe('RedisMessageStore append', () => {
  it('with replicas to wait for, acknowledges only what a replica holds and publishes nothing else', async () => {
    // This Redis has no replica: WAIT 1 never confirms.
    const prefix = uniquePrefix('msg');
    const commands = redis.connect();
    const store = new RedisMessageStore(commands, { prefix, waitReplicas: 1, waitTimeoutMs: 50 });
    const bus = new RedisRoomBus(commands, redis.connect(), { prefix });
    const heard: ChatMessage[] = [];
    await bus.listen({ message: (m) => heard.push(m), presence: () => {}, resync: () => {} });
    await bus.subscribe('r');
    const send = () => store.append({ room: 'r', user: alice, text: 'durable?', ts: 1, clientMsgId: 'w-1' });
    await expect(send()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    // A retry finds the same message (stored once) and is refused again for the same reason.
    await expect(send()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect((await store.latest('r', 10)).messages.map((m) => m.seq)).toEqual([1]);
    await new Promise((r) => setTimeout(r, 100));
    expect(heard).toEqual([]);
  });

  it('keeps idempotency in one bounded set per room and lets every key of a quiet room expire', async () => {
    const prefix = uniquePrefix('msg');
    const raw = redis.connect();
    const store = new RedisMessageStore(redis.connect(), { prefix, historyCap: 100, roomTtlSeconds: 600 });
    for (let i = 0; i < 300; i++)
      await store.append({ room: 'r', user: alice, text: 't', ts: 1, clientMsgId: `c${i}` });
    const keys = (await raw.keys(`${prefix}*`)).sort();
    expect(keys).toEqual(['epoch', 'idem', 'log', 'seq'].map((k) => `${prefix}room:{r}:${k}`));
    // The last 100 count; older ones are trimmed every 64 messages.
    const remembered = await raw.zcard(`${prefix}room:{r}:idem`);
    expect(remembered).toBeGreaterThanOrEqual(100);
    expect(remembered).toBeLessThanOrEqual(164);
    for (const key of keys) {
      const ttl = await raw.ttl(key);
      expect(ttl, key).toBeGreaterThan(500);
      expect(ttl, key).toBeLessThanOrEqual(600);
    }
    // Reading a room nobody wrote to leaves only its epoch, and that expires too.
    await store.latest('never-written', 10);
    expect(await raw.ttl(`${prefix}room:{never-written}:epoch`)).toBeGreaterThan(500);
  });

  it('consumes no seq when the append fails, so the room never has a hole', async () => {
    const prefix = uniquePrefix('msg');
    const raw = redis.connect();
    const store = new RedisMessageStore(redis.connect(), { prefix });
    const send = (text: string) => store.append({ room: 'r', user: alice, text, ts: 1 });
    expect((await send('one')).message.seq).toBe(1);
    // The log key has the wrong type: XADD, the only command that can fail, fails.
    const log = `${prefix}room:{r}:log`;
    await raw.rename(log, `${log}-aside`);
    await raw.set(log, 'not a stream');
    await expect(send('fails')).rejects.toThrow(/WRONGTYPE/);
    await expect(
      store.append({ room: 'r', user: alice, text: 'fails too', ts: 1, clientMsgId: 'retried' }),
    ).rejects.toThrow(/WRONGTYPE/);
    await raw.rename(`${log}-aside`, log);
    expect((await send('two')).message.seq).toBe(2);
    // The failed send's id was taken back: its retry is stored (not answered with someone else's message).
    const retried = await store.append({
      room: 'r',
      user: alice,
      text: 'fails too',
      ts: 1,
      clientMsgId: 'retried',
    });
    expect(retried).toMatchObject({ duplicate: false, message: { seq: 3, text: 'fails too' } });
    const after = await store.after('r', 0, 10);
    expect(after.messages.map((m) => [m.seq, m.text])).toEqual([
      [1, 'one'],
      [2, 'two'],
      [3, 'fails too'],
    ]);
  });
});
