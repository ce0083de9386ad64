import type { ChatMessage } from '@chorus/protocol';
import { describe, expect, it } from 'vitest';
import { eventually, sleep } from '../../../../test/support/wait';
import { MemoryRoomBus } from '../bus/room-bus.memory';
import type { Logger } from '../logger';
import type { HistoryPage } from './message-store';
import { MemoryMessageStore } from './message-store.memory';
import { type ResetReason, RoomFeed } from './room-feed';

const user = { id: 'u1', name: 'alice' };

/** A logger that records every line with the bindings of the child it was written through. */
function recordingLogger() {
  const lines: [string, Record<string, unknown>, string][] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const write = (level: string) => (fields: Record<string, unknown>, message: string) =>
      lines.push([level, { ...bindings, ...fields }, message]);
    return {
      info: write('info'),
      warn: write('warn'),
      child: (more: Record<string, unknown>) => make({ ...bindings, ...more }),
    } as unknown as Logger;
  };
  return { logger: make({}), lines };
}

/** A deferred step of a log read: the test decides when it answers. */
function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/**
 * A feed over a memory store whose reads the test can hold, narrow or break, counting them and how many run at once.
 */
function setup(options: { retryMs?: number } = {}) {
  const store = new MemoryMessageStore();
  const { logger, lines } = recordingLogger();
  const delivered: ChatMessage[] = [];
  const resets: [string, ResetReason][] = [];
  const feed = new RoomFeed({
    store,
    bus: new MemoryRoomBus(),
    logger,
    deliver: (m) => delivered.push(m),
    reset: (room, reason) => resets.push([room, reason]),
    retryMs: options.retryMs ?? 10,
  });
  const control = {
    reads: 0,
    inFlight: 0,
    maxInFlight: 0,
    /** Held reads wait on this gate. */
    hold: undefined as ReturnType<typeof gate> | undefined,
    /** Changes a page before the feed sees it. */
    edit: undefined as
      | ((page: HistoryPage & { complete: boolean }) => HistoryPage & { complete: boolean })
      | undefined,
    fail: false,
  };
  const after = store.after.bind(store);
  store.after = async (room, from, limit) => {
    control.reads += 1;
    control.inFlight += 1;
    control.maxInFlight = Math.max(control.maxInFlight, control.inFlight);
    try {
      const page = await after(room, from, limit);
      if (control.hold) await control.hold.opened;
      if (control.fail) throw new Error('Redis away');
      return control.edit ? control.edit(page) : page;
    } finally {
      control.inFlight -= 1;
    }
  };
  const append = async (room = 'r') => (await store.append({ room, user, text: 'x', ts: 1 })).message;
  const appendMany = async (n: number) => {
    const out: ChatMessage[] = [];
    for (let i = 0; i < n; i++) out.push(await append());
    return out;
  };
  const seqs = () => delivered.map((m) => m.seq);
  return { store, feed, delivered, resets, lines, control, append, appendMany, seqs };
}

describe('RoomFeed, at its edges', () => {
  it('logs as the room feed, and says why local members resume', async () => {
    const t = setup();
    t.feed.track('r');
    const m1 = await t.append();
    t.feed.message(m1);
    t.feed.message({ ...m1, epoch: 'next', id: 'next:1' });
    expect(t.lines).toContainEqual([
      'warn',
      { component: 'room-feed', room: 'r', from: m1.epoch, to: 'next' },
      'room epoch changed (history lost); local members resume',
    ]);
    t.feed.resync();
    expect(t.lines).toContainEqual([
      'info',
      { component: 'room-feed', rooms: 1 },
      'feed resumed, catching up rooms from the log',
    ]);
  });

  it('ignores what concerns rooms it does not sequence', async () => {
    const t = setup();
    expect(() => t.feed.untrack('nowhere')).not.toThrow();
    expect(() => t.feed.seen('nowhere', 'e', 3)).not.toThrow();
    expect(() => t.feed.watch('nowhere', () => {})).toThrow('room nowhere is not tracked');
    expect(await t.feed.reached('nowhere', 'e', 0, 1_000)).toBe(false);
    t.feed.message(await t.append('nowhere'));
    expect(t.delivered).toEqual([]);
  });

  it('counts the rooms it sequences and the local memberships they hold', () => {
    const t = setup();
    expect(t.feed.load()).toEqual({ rooms: 0, members: 0 });
    t.feed.track('a');
    t.feed.track('a');
    t.feed.track('b');
    expect(t.feed.load()).toEqual({ rooms: 2, members: 3 });
    t.feed.untrack('a');
    expect(t.feed.load()).toEqual({ rooms: 2, members: 2 });
  });

  it('has reached a position it is exactly at, and waits for one it is not at yet', async () => {
    const t = setup();
    t.feed.track('r');
    const [m1, m2] = await t.appendMany(2);
    t.feed.message(m1!);
    expect(await t.feed.reached('r', m1!.epoch, 1, 50)).toBe(true);
    let settled: boolean | undefined;
    void t.feed.reached('r', m1!.epoch, 3, 2_000).then((ok) => (settled = ok));
    // Moving to 2 is not reaching 3.
    t.feed.message(m2!);
    await sleep(20);
    expect(settled).toBeUndefined();
    t.feed.message(await t.append());
    await eventually(() => expect(settled).toBe(true));
  });

  it('does not count moving past the seq in its own epoch as reaching that seq of another epoch', async () => {
    const t = setup();
    t.feed.track('r');
    const [m1, m2] = await t.appendMany(2);
    t.feed.message(m1!);
    // A join read seq 1 of an epoch the room no longer has (its history was lost since).
    let settled: boolean | undefined;
    void t.feed.reached('r', 'an-older-epoch', 1, 150).then((ok) => (settled = ok));
    t.feed.message(m2!);
    await sleep(20);
    expect(settled).toBeUndefined();
    await eventually(() => expect(settled).toBe(false));
  });

  it('keeps its position when a join reads an older one', async () => {
    const t = setup();
    t.feed.track('r');
    const [m1, m2, m3] = await t.appendMany(3);
    for (const m of [m1!, m2!, m3!]) t.feed.message(m);
    t.feed.seen('r', m1!.epoch, 1);
    t.feed.message(await t.append());
    await sleep(20);
    expect(t.seqs()).toEqual([1, 2, 3, 4]);
  });

  it('does not read a room back on resync before it knows where the room is', async () => {
    const t = setup();
    t.feed.track('r');
    await t.appendMany(2);
    t.feed.resync();
    await sleep(20);
    expect(t.control.reads).toBe(0);
    expect(t.resets).toEqual([]);
    expect(t.delivered).toEqual([]);
  });

  it('reads nothing more once closed', async () => {
    const t = setup();
    t.feed.track('r');
    t.feed.message(await t.append());
    await t.appendMany(2);
    t.feed.close();
    t.feed.resync();
    t.feed.message(await t.append());
    await sleep(20);
    expect(t.control.reads).toBe(0);
    expect(t.seqs()).toEqual([1]);
  });

  it('reads one page at a time, however many gaps open while it reads', async () => {
    const t = setup();
    t.feed.track('r');
    const ms = await t.appendMany(8);
    t.feed.message(ms[0]!);
    t.control.hold = gate();
    t.feed.message(ms[3]!);
    t.feed.message(ms[5]!);
    t.feed.resync();
    void t.feed.reached('r', 'another-epoch', 1, 50);
    t.feed.message(ms[7]!);
    t.control.hold.open();
    t.control.hold = undefined;
    await eventually(() => expect(t.seqs()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(t.control.maxInFlight).toBe(1);
  });

  it('delivers what waited behind a gap as soon as the read filled it, without another read', async () => {
    const t = setup({ retryMs: 10_000 });
    t.feed.track('r');
    const [m1, , m3] = await t.appendMany(3);
    t.feed.message(m1!);
    // The read sees only seq 2 (the log answered before 3 was visible to it); 3 waits behind.
    t.control.edit = (page) => ({ ...page, messages: page.messages.filter((m) => m.seq < 3) });
    t.feed.message(m3!);
    await eventually(() => expect(t.seqs()).toEqual([1, 2, 3]));
    expect(t.control.reads).toBe(1);
  });

  it('reads again at once when a read narrowed the gap, without waiting for the retry', async () => {
    const t = setup({ retryMs: 10_000 });
    t.feed.track('r');
    const ms = await t.appendMany(5);
    t.feed.message(ms[0]!);
    // The first read sees 2 and 3 only; 5 waits behind 4.
    t.control.edit = (page) => {
      t.control.edit = undefined;
      return { ...page, messages: page.messages.filter((m) => m.seq < 4) };
    };
    t.feed.message(ms[4]!);
    await eventually(() => expect(t.seqs()).toEqual([1, 2, 3, 4, 5]), { timeoutMs: 1_000 });
  });

  it('reads no more once a catch-up left nothing waiting', async () => {
    const t = setup();
    t.feed.track('r');
    t.feed.message(await t.append());
    await t.appendMany(2);
    t.feed.resync();
    await eventually(() => expect(t.seqs()).toEqual([1, 2, 3]));
    const reads = t.control.reads;
    await sleep(60);
    expect(t.control.reads).toBe(reads);
  });

  it('reads once on a resync that finds nothing missing, and not again', async () => {
    const t = setup();
    t.feed.track('r');
    t.feed.message(await t.append());
    t.feed.resync();
    await sleep(60);
    expect(t.control.reads).toBe(1);
    expect(t.seqs()).toEqual([1]);
  });

  it('reads the next gap that opened while it was reading', async () => {
    const t = setup({ retryMs: 10_000 });
    t.feed.track('r');
    const ms = await t.appendMany(3);
    t.feed.message(ms[0]!);
    t.control.hold = gate();
    t.feed.message(ms[2]!);
    await eventually(() => expect(t.control.inFlight).toBe(1));
    // Appended and heard while the first read is held: after it, seq 5 waits behind 4.
    const m4 = await t.append();
    const m5 = await t.append();
    expect(m4.seq).toBe(4);
    t.feed.message(m5);
    // The held read answers what it read before 4 and 5 were appended.
    t.control.edit = (page) => {
      t.control.edit = undefined;
      return { ...page, messages: page.messages.filter((m) => m.seq <= 3) };
    };
    t.control.hold.open();
    t.control.hold = undefined;
    await eventually(() => expect(t.seqs()).toEqual([1, 2, 3, 4, 5]), { timeoutMs: 1_000 });
  });

  it('catches up more than a page of missed messages on resync', async () => {
    const t = setup();
    t.feed.track('r');
    t.feed.message(await t.append());
    await t.appendMany(1_200);
    t.feed.resync();
    await eventually(() => expect(t.delivered).toHaveLength(1_201), { timeoutMs: 5_000 });
    expect(t.seqs()).toEqual(Array.from({ length: 1_201 }, (_, i) => i + 1));
  });

  /** Room `r` at seq 1, then seq 3 arrives: the gap's read is held, and the room is left while it is. */
  async function leftWhileReading() {
    const t = setup();
    t.feed.track('r');
    const [m1, , m3] = await t.appendMany(3);
    t.feed.message(m1!);
    const hold = gate();
    t.control.hold = hold;
    t.feed.message(m3!);
    await eventually(() => expect(t.control.inFlight).toBe(1));
    t.feed.untrack('r');
    return { t, hold };
  }

  it('drops a read that comes back after the room was left', async () => {
    const { t, hold } = await leftWhileReading();
    hold.open();
    await sleep(20);
    expect(t.seqs()).toEqual([1]);
  });

  it('does not carry a read of a room that was left over to the room joined again meanwhile', async () => {
    const { t, hold } = await leftWhileReading();
    t.feed.track('r');
    hold.open();
    t.control.hold = undefined;
    await sleep(30);
    // The new sequencing of the room knows nothing yet: no read for it, no reset.
    expect(t.control.reads).toBe(1);
    expect(t.resets).toEqual([]);
  });

  it('drops an epoch change found after the room was left', async () => {
    const t = setup();
    t.feed.track('r');
    const m1 = await t.append();
    t.feed.message({ ...m1, epoch: 'old', id: 'old:1' });
    const latest = t.store.latest.bind(t.store);
    const held = gate();
    t.store.latest = async (room, limit) => {
      const page = await latest(room, limit);
      await held.opened;
      return page;
    };
    t.feed.resync();
    await sleep(20);
    t.feed.untrack('r');
    held.open();
    await sleep(20);
    expect(t.resets).toEqual([]);
  });

  it('moves to a new epoch whose log is still empty, and delivers from its first message', async () => {
    const t = setup();
    t.feed.track('r');
    const m1 = await t.append();
    t.feed.message({ ...m1, epoch: 'old', id: 'old:1' });
    t.store.latest = async () => ({ epoch: m1.epoch, messages: [] });
    t.control.edit = (page) => ({ ...page, messages: [] });
    t.feed.resync();
    await eventually(() => expect(t.resets).toEqual([['r', 'epoch']]));
    t.control.edit = undefined;
    expect(await t.feed.reached('r', m1.epoch, 0, 100)).toBe(true);
  });

  it('makes members resume when the log lost everything after the position', async () => {
    const t = setup();
    t.feed.track('r');
    t.feed.message(await t.append());
    await t.appendMany(2);
    t.control.edit = (page) => ({ ...page, messages: [], complete: false });
    t.feed.resync();
    await eventually(() => expect(t.resets).toEqual([['r', 'gap']]));
    expect(t.lines).toContainEqual([
      'warn',
      { component: 'room-feed', room: 'r', last: 1 },
      'gap no longer in the log; local members resume',
    ]);
    t.control.edit = undefined;
    expect(await t.feed.reached('r', (await t.store.latest('r', 1)).epoch, 1, 100)).toBe(true);
  });

  it('says which seq the log never had', async () => {
    const t = setup();
    t.feed.track('r');
    const [m1, , m3] = await t.appendMany(3);
    t.control.edit = (page) => ({ ...page, messages: page.messages.filter((m) => m.seq !== 2) });
    t.feed.message(m1!);
    t.feed.message(m3!);
    await eventually(() => expect(t.seqs()).toEqual([1, 3]));
    expect(t.lines).toContainEqual([
      'warn',
      { component: 'room-feed', room: 'r', missing: 2, next: 3 },
      'hole in the log; local members resume',
    ]);
  });

  it('skips what a read gives back that was already delivered', async () => {
    const t = setup();
    t.feed.track('r');
    const [m1, m2] = await t.appendMany(3);
    t.feed.message(m1!);
    // A log that answers from the position itself (inclusive), not after it.
    t.control.edit = (page) => ({ ...page, messages: [m1!, m2!, ...page.messages.filter((m) => m.seq > 2)] });
    t.feed.resync();
    await eventually(() => expect(t.seqs()).toEqual([1, 2, 3]));
    await sleep(20);
    expect(t.seqs()).toEqual([1, 2, 3]);
    expect(t.resets).toEqual([]);
  });

  it('tries again later when a read fails, and says so', async () => {
    const t = setup();
    t.feed.track('r');
    const [m1, , m3] = await t.appendMany(3);
    t.feed.message(m1!);
    t.control.fail = true;
    t.feed.message(m3!);
    await eventually(() =>
      expect(t.lines).toContainEqual([
        'warn',
        { component: 'room-feed', room: 'r', err: { message: 'Redis away' } },
        'catch-up failed; will retry',
      ]),
    );
    t.control.fail = false;
    await eventually(() => expect(t.seqs()).toEqual([1, 2, 3]));
  });
});
