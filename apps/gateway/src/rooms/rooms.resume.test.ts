import type { ChatMessage, Position, RoomJoinResult } from '@chorus/protocol';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryRoomBus } from '../bus/room-bus.memory';
import { MemoryMessageStore } from '../chat/message-store.memory';
import { RoomFeed } from '../chat/room-feed';
import type { Connection } from '../connection';
import type { GatewayContext } from '../context';
import type { GatewayDeps } from '../deps';
import { TokenBucket } from '../limits/token-bucket';
import { PresenceWatch, withHeard } from './presence-delivery';
import { MemoryPresenceStore } from './presence-store.memory';
import { createRoomService } from './rooms.service';

const alice = { id: 'u', name: 'n' };
const silent = pino({ level: 'silent' });

/**
 * One gateway's room service over memory stores, with its feed wired as the gateway wires it. `muted` makes the
 * feed miss what is appended (pub/sub lagging or down); `hooks` run inside the join's reads, to play what the
 * feed delivers while a join is under way.
 */
function setup(options: { historyCap?: number; maxJoinsInFlight?: number } = {}) {
  let muted = false;
  const delivered: ChatMessage[] = [];
  const store = new MemoryMessageStore({
    historyCap: options.historyCap,
    publish: (message) => {
      if (!muted) feed.message(message);
    },
  });
  const feed = new RoomFeed({
    store,
    bus: new MemoryRoomBus(),
    logger: silent,
    deliver: (message) => delivered.push(message),
    reset: () => {},
    retryMs: 10,
  });
  const presence = new MemoryPresenceStore();
  const watch = new PresenceWatch();
  let afterReads = 0;
  let latestReads = 0;
  const after = store.after.bind(store);
  store.after = async (room, from, limit) => {
    afterReads += 1;
    return after(room, from, limit);
  };
  const latest = store.latest.bind(store);
  store.latest = async (room, limit) => {
    latestReads += 1;
    return latest(room, limit);
  };
  const ctx = {
    deps: { messages: store, presence } as unknown as GatewayDeps,
    presenceNode: 'gw-test',
    feed,
    presenceAnnouncer: { announce: () => {} },
    presenceWatch: watch,
    addressLimiter: { take: () => {} },
  } as unknown as GatewayContext;
  const rooms = createRoomService(ctx, { maxJoinsInFlight: options.maxJoinsInFlight });
  let n = 0;
  const connect = (): Connection & { closed: boolean } => ({
    id: `c${++n}`,
    user: alice,
    grants: [],
    address: '127.0.0.1',
    rooms: new Set(),
    log: silent,
    limiter: new TokenBucket({ perSecond: 100, burst: 100 }),
    closed: false,
    subscribe: () => {},
    unsubscribe: () => {},
  });
  const append = async (text = 'x', room = 'r') =>
    (await store.append({ room, user: alice, text, ts: 1 })).message;
  const appendMany = async (count: number, text = 'x') => {
    const out: ChatMessage[] = [];
    for (let i = 0; i < count; i++) out.push(await append(text));
    return out;
  };
  return {
    store,
    feed,
    presence,
    watch,
    rooms,
    connect,
    append,
    appendMany,
    delivered,
    mute: (on: boolean) => {
      muted = on;
    },
    afterReads: () => afterReads,
    latestReads: () => latestReads,
  };
}

const seqs = (result: RoomJoinResult) => result.history.map((m) => m.seq);

/** A first join that reads the room, then leaves: what a client holds before it reconnects. */
async function position(t: ReturnType<typeof setup>, seq: number): Promise<Position> {
  const epoch = (await t.store.latest('r', 1)).epoch;
  return { epoch, seq };
}

describe('a resuming join (room:join with since)', () => {
  it('replays exactly the messages after the position, and says it recovered', async () => {
    const t = setup();
    await t.appendMany(7);
    const result = await t.rooms.join(t.connect(), { room: 'r', since: await position(t, 3) });
    expect(seqs(result)).toEqual([4, 5, 6, 7]);
    expect(result.recovered).toBe(true);
    expect(result.epoch).toBe((await position(t, 0)).epoch);
  });

  it('replays nothing, and still recovers, when the client already has the latest message', async () => {
    const t = setup();
    await t.appendMany(3);
    const result = await t.rooms.join(t.connect(), { room: 'r', since: await position(t, 3) });
    expect(result.history).toEqual([]);
    expect(result.recovered).toBe(true);
  });

  it('replays across pages when more than one page is missing', async () => {
    const t = setup();
    await t.appendMany(1_234);
    const since = await position(t, 10);
    const latestBefore = t.latestReads();
    const result = await t.rooms.join(t.connect(), { room: 'r', since });
    expect(seqs(result)).toEqual(Array.from({ length: 1_224 }, (_, i) => i + 11));
    expect(result.recovered).toBe(true);
    // Pages of 500: 500, 500, 224, and nothing else read.
    expect(t.afterReads()).toBe(3);
    expect(t.latestReads() - latestBefore).toBe(0);
  });

  it('reads one more page only when the last one was full', async () => {
    const t = setup();
    await t.appendMany(500);
    const result = await t.rooms.join(t.connect(), { room: 'r', since: await position(t, 0) });
    expect(result.history).toHaveLength(500);
    expect(result.recovered).toBe(true);
    expect(t.afterReads()).toBe(2);
  });

  it('does not recover across an epoch change, and answers the latest history instead', async () => {
    const t = setup();
    await t.appendMany(60);
    const result = await t.rooms.join(t.connect(), { room: 'r', since: { epoch: 'an-older-epoch', seq: 3 } });
    expect(result.recovered).toBe(false);
    expect(seqs(result)).toEqual(Array.from({ length: 50 }, (_, i) => i + 11));
  });

  it('does not recover when the log no longer holds the messages after the position (trimmed)', async () => {
    const t = setup({ historyCap: 5 });
    await t.appendMany(12);
    const result = await t.rooms.join(t.connect(), { room: 'r', since: await position(t, 2) });
    expect(result.recovered).toBe(false);
    expect(seqs(result)).toEqual([8, 9, 10, 11, 12]);
  });

  it('recovers from the oldest position the trimmed log still continues', async () => {
    const t = setup({ historyCap: 5 });
    await t.appendMany(12);
    // The log keeps 8..12: a client at 7 misses nothing it could not read.
    const result = await t.rooms.join(t.connect(), { room: 'r', since: await position(t, 7) });
    expect(result.recovered).toBe(true);
    expect(seqs(result)).toEqual([8, 9, 10, 11, 12]);
  });

  it('does not recover over a hole in the log (a seq that was never written)', async () => {
    const t = setup();
    await t.appendMany(6);
    const after = t.store.after.bind(t.store);
    t.store.after = async (room, from, limit) => {
      const page = await after(room, from, limit);
      return { ...page, messages: page.messages.filter((m) => m.seq !== 5) };
    };
    const result = await t.rooms.join(t.connect(), { room: 'r', since: await position(t, 2) });
    expect(result.recovered).toBe(false);
    // The latest history, hole and all: the client reloads it.
    expect(seqs(result)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('replays up to the answer’s byte budget, and not one byte more', async () => {
    // Each message's size bound is 3 × (text + name) + id + 256 = 3 × text + 260 here; the budget is
    // 1 MiB − 256 KiB = 786,432 bytes: 64 messages of 4,000 characters and 2 of 212 fill it exactly.
    const t = setup();
    await t.append('x');
    await t.appendMany(64, 'y'.repeat(4_000));
    await t.appendMany(2, 'z'.repeat(212));
    const exact = await t.rooms.join(t.connect(), { room: 'r', since: await position(t, 1) });
    expect(exact.recovered).toBe(true);
    expect(exact.history).toHaveLength(66);

    const u = setup();
    await u.append('x');
    await u.appendMany(64, 'y'.repeat(4_000));
    await u.appendMany(1, 'z'.repeat(212));
    await u.appendMany(1, 'z'.repeat(213));
    const over = await u.rooms.join(u.connect(), { room: 'r', since: await position(u, 1) });
    expect(over.recovered).toBe(false);
    expect(over.history).toHaveLength(50);
  });

  it('says nothing about recovery to a join without a position', async () => {
    const t = setup();
    await t.appendMany(2);
    const result = await t.rooms.join(t.connect(), { room: 'r' });
    expect(seqs(result)).toEqual([1, 2]);
    expect('recovered' in result).toBe(false);
  });

  it('starts the gateway’s feed at the resumed position, so the next message is delivered, once', async () => {
    const t = setup();
    await t.appendMany(4);
    await t.rooms.join(t.connect(), { room: 'r', since: await position(t, 4) });
    await t.append();
    expect(t.delivered.map((m) => m.seq)).toEqual([5]);
  });

  it('starts the gateway’s feed after what the join replayed', async () => {
    const t = setup();
    await t.appendMany(4);
    await t.rooms.join(t.connect(), { room: 'r', since: await position(t, 2) });
    await t.append();
    expect(t.delivered.map((m) => m.seq)).toEqual([5]);
  });

  it('adds to the answer what the feed delivered during the join, once each and gapless', async () => {
    const t = setup();
    await t.appendMany(2);
    const conn = t.connect();
    // Another member of the room on this gateway keeps the feed hearing it.
    await t.rooms.join(t.connect(), { room: 'r' });
    const latest = t.store.latest.bind(t.store);
    t.store.latest = async (room, limit) => {
      const page = await latest(room, limit);
      // Sent while the join's read was on its way back: the feed hands them out before the join goes live.
      await t.append();
      await t.append();
      return page;
    };
    const join = t.rooms.join(conn, { room: 'r' });
    const result = await join;
    expect(seqs(result)).toEqual([1, 2, 3, 4]);
  });

  it('leaves out what the read already had, and messages of another epoch, that the feed delivered meanwhile', async () => {
    const t = setup();
    const [m1, m2] = await t.appendMany(2);
    await t.rooms.join(t.connect(), { room: 'r' });
    const latest = t.store.latest.bind(t.store);
    t.store.latest = async (room, limit) => {
      t.store.latest = latest;
      // Delivered before the read: the read has it too.
      await t.append();
      const page = await latest(room, limit);
      // A message of another epoch arrives (the feed moves there), then the log's epoch wins again.
      t.feed.message({ ...m2!, epoch: 'elsewhere', id: 'elsewhere:4', seq: 4 });
      return page;
    };
    const result = await t.rooms.join(t.connect(), { room: 'r' });
    expect(result.history.map((m) => [m.epoch, m.seq])).toEqual([
      [m1!.epoch, 1],
      [m1!.epoch, 2],
      [m1!.epoch, 3],
    ]);
  });

  it('adds what the feed delivered during a resume that had nothing to replay', async () => {
    const t = setup();
    await t.appendMany(3);
    await t.rooms.join(t.connect(), { room: 'r' });
    const since = await position(t, 3);
    const after = t.store.after.bind(t.store);
    t.store.after = async (room, from, limit) => {
      const page = await after(room, from, limit);
      // Sent just after the replay's read: only the feed brings it.
      await t.append();
      t.store.after = after;
      return page;
    };
    const result = await t.rooms.join(t.connect(), { room: 'r', since });
    expect(result.recovered).toBe(true);
    expect(seqs(result)).toEqual([4]);
  });

  it('brings an empty room into being with an empty history', async () => {
    const t = setup();
    const result = await t.rooms.join(t.connect(), { room: 'r' });
    expect(result.history).toEqual([]);
    await t.append();
    expect(t.delivered.map((m) => m.seq)).toEqual([1]);
  });

  it('refuses the join (UNAVAILABLE, retry) when the feed cannot reach what the join read', async () => {
    const t = setup();
    await t.appendMany(1);
    await t.rooms.join(t.connect(), { room: 'r' });
    // The feed misses these and cannot read the log back.
    t.mute(true);
    await t.appendMany(2);
    t.store.after = async () => {
      throw new Error('Redis is away');
    };
    const conn = t.connect();
    await expect(t.rooms.join(conn, { room: 'r' })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: 'the room feed is behind; retry the join',
    });
    expect(conn.rooms.has('r')).toBe(false);
  }, 10_000);

  it('does not recover a position past the log’s end, and keeps the feed where the log is', async () => {
    const t = setup();
    const [m1] = await t.appendMany(3);
    // Forged, or held by a client while the log lost its tail: nothing to replay, and nothing to trust.
    const result = await t.rooms.join(t.connect(), {
      room: 'r',
      since: { epoch: m1!.epoch, seq: 1_000_000 },
    });
    expect(result.recovered).toBe(false);
    expect(seqs(result)).toEqual([1, 2, 3]);
    // The next message still reaches this gateway's members.
    await t.append();
    expect(t.delivered.map((m) => m.seq)).toEqual([4]);
  });

  it('does not recover a position one past the log’s end', async () => {
    const t = setup();
    const [m1] = await t.appendMany(3);
    const result = await t.rooms.join(t.connect(), { room: 'r', since: { epoch: m1!.epoch, seq: 4 } });
    expect(result.recovered).toBe(false);
    expect(seqs(result)).toEqual([1, 2, 3]);
  });

  it('recovers an empty room from the start', async () => {
    const t = setup();
    const { epoch } = await t.store.latest('r', 1);
    const result = await t.rooms.join(t.connect(), { room: 'r', since: { epoch, seq: 0 } });
    expect(result.recovered).toBe(true);
    expect(result.history).toEqual([]);
  });
});

describe('the members a join answers with', () => {
  const bob = { id: 'b', name: 'bob' };
  const carol = { id: 'c', name: 'carol' };

  it('include the presence the room heard while the join was under way, the joiner’s own aside', async () => {
    const t = setup();
    await t.presence.join({ room: 'r', connId: 'c-carol', user: carol, node: 'gw-test' });
    const enter = t.presence.enter.bind(t.presence);
    t.presence.enter = async (membership, limit) => {
      const result = await enter(membership, limit);
      // After the read, before the joiner hears the room: bob comes, carol goes, the joiner is announced.
      t.watch.heard([
        { event: { room: 'r', user: bob, state: 'joined' } },
        { event: { room: 'r', user: carol, state: 'left' } },
      ]);
      t.watch.heard([{ event: { room: 'r', user: alice, state: 'joined' }, except: 'c1' }]);
      t.watch.heard([{ event: { room: 'other', user: carol, state: 'joined' } }]);
      return result;
    };
    const result = await t.rooms.join(t.connect(), { room: 'r' });
    expect(result.members.map((u) => u.name).sort()).toEqual(['bob', 'n']);
    expect(result.memberCount).toBe(2);
    // Once the join is over, the room's presence reaches the connection live: nothing is watched any more.
    t.watch.heard([{ event: { room: 'r', user: carol, state: 'joined' } }]);
    expect(result.members.map((u) => u.name).sort()).toEqual(['bob', 'n']);
  });

  it('take the latest change per user, and from a sampled list only drop who left', () => {
    const sample = { users: [alice, carol], count: 900 };
    const heard = [
      { event: { room: 'r', user: bob, state: 'joined' as const } },
      { event: { room: 'r', user: carol, state: 'joined' as const } },
      { event: { room: 'r', user: carol, state: 'left' as const } },
    ];
    expect(withHeard(sample, heard, 'x', 500)).toEqual({ users: [alice], count: 899 });
    const full = { users: [alice, carol], count: 2 };
    expect(withHeard(full, heard, 'x', 500)).toEqual({ users: [alice, bob], count: 2 });
    expect(withHeard(full, heard, 'x', 2)).toEqual({ users: [alice], count: 1 });
    expect(withHeard(full, [], 'x', 500)).toBe(full);
  });
});

describe('joins and the connection closing', () => {
  it('drops a join whose connection closed while it waited its turn, and records nothing for it', async () => {
    const t = setup({ maxJoinsInFlight: 1 });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const enter = t.presence.enter.bind(t.presence);
    t.presence.enter = async (membership, limit) => {
      if (membership.connId === 'c1') await held;
      return enter(membership, limit);
    };
    const first = t.connect();
    const second = t.connect();
    const joining = t.rooms.join(first, { room: 'r' });
    const waiting = t.rooms.join(second, { room: 'r' });
    await new Promise((resolve) => setImmediate(resolve));
    second.closed = true;
    await t.rooms.leaveAll(second);
    release();
    await joining;
    await expect(waiting).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(second.rooms.size).toBe(0);
    expect((await t.presence.members('r', 10)).count).toBe(1);
  });

  it('takes back the membership of a connection that closed while its join was under way', async () => {
    const t = setup();
    const conn = t.connect();
    const enter = t.presence.enter.bind(t.presence);
    t.presence.enter = async (membership, limit) => {
      // The client goes, and its leave runs, before the membership is written.
      conn.closed = true;
      await t.rooms.leaveAll(conn);
      return enter(membership, limit);
    };
    await expect(t.rooms.join(conn, { room: 'r' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await new Promise((resolve) => setImmediate(resolve));
    expect((await t.presence.members('r', 10)).count).toBe(0);
    expect(conn.rooms.size).toBe(0);
    // The room was tracked once and untracked once: another member's join still hears the room.
    const other = t.connect();
    await t.rooms.join(other, { room: 'r' });
    await t.append('after');
    expect(t.delivered.map((m) => m.text)).toContain('after');
  });
});
