import type { ChatMessage } from '@chorus/protocol';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { eventually, sleep } from '../../../../test/support/wait';
import { MemoryRoomBus } from '../bus/room-bus.memory';
import { MemoryMessageStore } from './message-store.memory';
import { type ResetReason, RoomFeed } from './room-feed';

const user = { id: 'u1', name: 'alice' };

/** A feed over a memory store that is NOT subscribed: each test decides what the feed hears. */
function setup(options: { historyCap?: number; lost?: number[] } = {}) {
  const store = new MemoryMessageStore(options);
  // Seqs in `lost` were never written: the log answers as if a failed-over Redis had lost them.
  const lost = new Set(options.lost ?? []);
  let reads = 0;
  const after = store.after.bind(store);
  store.after = async (room, from, limit) => {
    reads += 1;
    const page = await after(room, from, limit);
    return { ...page, messages: page.messages.filter((m) => !lost.has(m.seq)) };
  };
  const delivered: ChatMessage[] = [];
  const resets: [string, ResetReason][] = [];
  const feed = new RoomFeed({
    store,
    bus: new MemoryRoomBus(),
    logger: pino({ level: 'silent' }),
    deliver: (m) => delivered.push(m),
    reset: (room, reason) => resets.push([room, reason]),
    retryMs: 10,
  });
  const append = async (room: string, text = 'x') =>
    (await store.append({ room, user, text, ts: 1 })).message;
  const seqs = (room = 'r') => delivered.filter((m) => m.room === room).map((m) => m.seq);
  return { store, feed, delivered, resets, append, seqs, reads: () => reads };
}

describe('RoomFeed', () => {
  it('delivers a tracked room’s messages once, in order, and ignores untracked rooms', async () => {
    const { feed, append, seqs, delivered } = setup();
    feed.track('r');
    const [m1, m2] = [await append('r'), await append('r')];
    const other = await append('other');
    for (const m of [m1!, m1!, m2!, other, m2!]) feed.message(m);
    expect(seqs()).toEqual([1, 2]);
    expect(delivered.some((m) => m.room === 'other')).toBe(false);
  });

  it('holds a message that arrives after a gap until the gap is read back from the log', async () => {
    const { feed, append, seqs } = setup();
    feed.track('r');
    const [m1, , , m4] = [await append('r'), await append('r'), await append('r'), await append('r')];
    feed.message(m1!);
    feed.message(m4!);
    await eventually(() => expect(seqs()).toEqual([1, 2, 3, 4]));
  });

  it('catches every tracked room up from the log on resync', async () => {
    const { feed, append, seqs } = setup();
    feed.track('r');
    feed.message(await append('r'));
    // The feed misses these three, e.g. because its pub/sub link was down.
    for (let i = 0; i < 3; i++) await append('r');
    feed.resync();
    await eventually(() => expect(seqs()).toEqual([1, 2, 3, 4]));
    feed.message((await append('r'))!);
    expect(seqs()).toEqual([1, 2, 3, 4, 5]);
  });

  it('starts from what a join read, so a later gap is still noticed', async () => {
    const { feed, append, seqs } = setup();
    feed.track('r');
    const m1 = await append('r');
    feed.seen('r', m1.epoch, 1);
    await append('r'); // missed by the feed
    feed.message(await append('r'));
    await eventually(() => expect(seqs()).toEqual([2, 3]));
  });

  it('makes local members resume when the room’s epoch changes', async () => {
    const { feed, append, resets, seqs } = setup();
    feed.track('r');
    feed.message(await append('r'));
    const reborn = { ...(await append('r')), epoch: 'new-epoch', seq: 1, id: 'new-epoch:1' };
    feed.message(reborn);
    expect(resets).toEqual([['r', 'epoch']]);
    expect(seqs()).toEqual([1, 1]);
  });

  it('makes local members resume when the gap was trimmed from the log', async () => {
    const { feed, append, resets, seqs } = setup({ historyCap: 3 });
    feed.track('r');
    feed.message(await append('r'));
    for (let i = 0; i < 10; i++) await append('r');
    feed.resync();
    await eventually(() => expect(resets).toEqual([['r', 'gap']]));
    feed.message(await append('r'));
    expect(seqs()).toEqual([1, 12]);
  });

  it('passes delivered messages to watchers until they stop watching', async () => {
    const { feed, append } = setup();
    feed.track('r');
    const watched: number[] = [];
    const stop = feed.watch('r', (m) => watched.push(m.seq));
    feed.message(await append('r'));
    stop();
    feed.message(await append('r'));
    expect(watched).toEqual([1]);
  });

  it('forgets a room when its last local member leaves', async () => {
    const { feed, append, seqs } = setup();
    feed.track('r');
    feed.track('r');
    feed.untrack('r');
    feed.message(await append('r'));
    feed.untrack('r');
    feed.message(await append('r'));
    expect(seqs()).toEqual([1]);
  });

  it('skips a seq the log never had, makes local members resume once, and goes on', async () => {
    const { feed, append, seqs, resets, reads } = setup({ lost: [2] });
    feed.track('r');
    const [m1, , m3, m4] = [await append('r'), await append('r'), await append('r'), await append('r')];
    feed.message(m1!);
    feed.message(m3!);
    feed.message(m4!);
    await eventually(() => expect(seqs()).toEqual([1, 3, 4]));
    expect(resets).toEqual([['r', 'gap']]);
    feed.message(await append('r'));
    expect(seqs()).toEqual([1, 3, 4, 5]);
    expect(reads()).toBeLessThanOrEqual(2);
  });

  it('backs off instead of spinning while a gap stays unfilled', async () => {
    const { feed, append, seqs, reads } = setup();
    feed.track('r');
    const m1 = await append('r');
    feed.message(m1);
    // A message from beyond what the log holds: the gap cannot be read back yet.
    feed.message({ ...m1, seq: 9, id: `${m1.epoch}:9` });
    await sleep(300);
    // retryMs is 10: a spinning sequencer would have read thousands of times.
    expect(reads()).toBeGreaterThanOrEqual(2);
    expect(reads()).toBeLessThanOrEqual(35);
    expect(seqs()).toEqual([1]);
    feed.untrack('r');
  });

  it('tells a join when the feed has handed out what the join read, and not before', async () => {
    const { feed, append } = setup();
    feed.track('r');
    const m1 = await append('r');
    feed.message(m1);
    const [m2, m3] = [await append('r'), await append('r')];
    let settled: boolean | undefined;
    void feed.reached('r', m1.epoch, 3, 2_000).then((ok) => (settled = ok));
    await sleep(20);
    expect(settled).toBeUndefined();
    feed.message(m2);
    await sleep(5);
    expect(settled).toBeUndefined();
    feed.message(m3);
    await eventually(() => expect(settled).toBe(true));
    expect(await feed.reached('r', m1.epoch, 2, 10)).toBe(true);
    expect(await feed.reached('r', m1.epoch, 9, 50)).toBe(false);
  });

  it('moves to the log’s epoch when a join read a newer one than the feed holds', async () => {
    const { feed, append, resets, store } = setup();
    feed.track('r');
    const m1 = await append('r');
    feed.message({ ...m1, epoch: 'old-epoch', id: 'old-epoch:1' });
    const current = (await store.latest('r', 1)).epoch;
    expect(await feed.reached('r', current, 1, 1_000)).toBe(true);
    expect(resets).toEqual([['r', 'epoch']]);
  });
});
