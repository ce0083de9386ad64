import type { Socket } from 'socket.io';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../logger';
import { AddressLimiter, DEFAULT_ADDRESS_LIMITS } from './address-limiter';
import type { AddressLimitStore } from './address-limits';
import { MemoryAddressLimitStore } from './address-limits.memory';
import { FailureLockout } from './failure-lockout';
import { limitedWarn } from './log-limiter';
import { DEFAULT_REQUEST_LIMITS, RequestBudget } from './request-budget';
import { bufferedBytes, DEFAULT_MAX_BUFFERED_BYTES, watchSlowConsumers } from './slow-consumers';
import { TokenBucket } from './token-bucket';

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A logger that records its warn lines; enough of pino for the limiters. */
function recordingLogger() {
  const lines: [Record<string, unknown>, string][] = [];
  const log = {
    warn: (fields: Record<string, unknown>, message: string) => lines.push([fields, message]),
    debug: () => {},
    child: () => log,
  };
  return { log: log as unknown as Logger, lines };
}

describe('TokenBucket, at its edges', () => {
  it('never holds more than its burst, however long it was idle', () => {
    let now = 0;
    const bucket = new TokenBucket({ perSecond: 1_000, burst: 2, now: () => now });
    now += 60_000;
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, false]);
    expect(bucket.retryAfterMs()).toBe(1);
  });

  it('counts time from its creation, on the wall clock by default', () => {
    const bucket = new TokenBucket({ perSecond: 1, burst: 1 });
    expect(bucket.take()).toBe(true);
    expect(bucket.retryAfterMs()).toBe(1_000);
    vi.advanceTimersByTime(400);
    expect(bucket.retryAfterMs()).toBe(600);
    vi.advanceTimersByTime(600);
    expect(bucket.take()).toBe(true);
  });
});

describe('FailureLockout', () => {
  it('locks an address out once it used up its failures, then lets one more through per refill', () => {
    const lockout = new FailureLockout({ burst: 2, refillMs: 1_000 });
    expect(lockout.lockedForMs('a')).toBe(0);
    lockout.failed('a');
    expect(lockout.lockedForMs('a')).toBe(0);
    lockout.failed('a');
    expect(lockout.lockedForMs('a')).toBe(1_000);
    expect(lockout.lockedForMs('b')).toBe(0);
    vi.advanceTimersByTime(1_000);
    expect(lockout.lockedForMs('a')).toBe(0);
  });

  it('forgets the address seen longest ago past its bound', () => {
    const lockout = new FailureLockout({ burst: 1, refillMs: 60_000, maxAddresses: 2 });
    lockout.failed('a');
    lockout.failed('b');
    expect(lockout.lockedForMs('a')).toBeGreaterThan(0);
    lockout.failed('c');
    expect(lockout.lockedForMs('a')).toBe(0);
    expect(lockout.lockedForMs('b')).toBeGreaterThan(0);
    expect(lockout.lockedForMs('c')).toBeGreaterThan(0);
    // A known address is not a new one: nothing is forgotten for it.
    lockout.failed('b');
    expect(lockout.lockedForMs('c')).toBeGreaterThan(0);
  });

  it('defaults to ten failures, then one a minute', () => {
    const lockout = new FailureLockout();
    for (let i = 0; i < 9; i++) lockout.failed('a');
    expect(lockout.lockedForMs('a')).toBe(0);
    lockout.failed('a');
    expect(lockout.lockedForMs('a')).toBe(60_000);
  });
});

describe('limitedWarn', () => {
  it('writes a burst of lines, then counts what it leaves out and says so on the next line', () => {
    const { log, lines } = recordingLogger();
    const warn = limitedWarn(log, { perSecond: 1, burst: 2 });
    warn({ n: 1 }, 'one');
    warn({ n: 2 }, 'two');
    warn({ n: 3 }, 'three');
    warn({ n: 4 }, 'four');
    expect(lines).toEqual([
      [{ n: 1 }, 'one'],
      [{ n: 2 }, 'two'],
    ]);
    vi.advanceTimersByTime(1_000);
    warn({ n: 5 }, 'five');
    vi.advanceTimersByTime(1_000);
    warn({ n: 6 }, 'six');
    expect(lines.slice(2)).toEqual([
      [{ n: 5, suppressed: 2 }, 'five'],
      [{ n: 6 }, 'six'],
    ]);
  });

  it('defaults to ten lines at once, then one a second', () => {
    const { log, lines } = recordingLogger();
    const warn = limitedWarn(log);
    for (let i = 0; i < 12; i++) warn({}, 'x');
    expect(lines).toHaveLength(10);
    vi.advanceTimersByTime(1_000);
    warn({}, 'x');
    expect(lines.at(-1)).toEqual([{ suppressed: 2 }, 'x']);
  });
});

describe('RequestBudget', () => {
  it('admits a burst, then refuses RATE_LIMITED with the wait for the next token', () => {
    const budget = new RequestBudget({ perSecond: 10, burst: 2, maxInflight: 10 });
    budget.admit()();
    budget.admit()();
    let refused: unknown;
    try {
      budget.admit();
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 100, abusive: false });
    expect((refused as Error).message).toBe('too many requests, slow down');
  });

  it('caps requests waiting for an answer, and counts each answer once', () => {
    const budget = new RequestBudget({ perSecond: 1_000, burst: 1_000, maxInflight: 2 });
    const first = budget.admit();
    budget.admit();
    expect(budget.inflight).toBe(2);
    expect(() => budget.admit()).toThrow('at most 2 requests may wait for an answer');
    try {
      budget.admit();
    } catch (error) {
      expect(error).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 50 });
    }
    first();
    first();
    expect(budget.inflight).toBe(1);
    budget.admit();
    expect(budget.inflight).toBe(2);
  });

  it('marks a connection abusive once it was refused a hundred times in a row', () => {
    const budget = new RequestBudget({ perSecond: 0.001, burst: 1, maxInflight: 10 });
    budget.admit();
    const abusive: boolean[] = [];
    for (let i = 0; i < 101; i++) {
      try {
        budget.admit();
      } catch (error) {
        abusive.push((error as { abusive: boolean }).abusive);
      }
    }
    expect(abusive.indexOf(true)).toBe(100);
  });

  it('has the documented defaults', () => {
    expect(DEFAULT_REQUEST_LIMITS).toEqual({ perSecond: 20, burst: 150, maxInflight: 128 });
    expect(Object.isFrozen(DEFAULT_REQUEST_LIMITS)).toBe(true);
  });
});

describe('slow consumers', () => {
  const socket = (conn: object) => ({ conn }) as unknown as Socket;

  it('counts what the WebSocket buffers and what Engine.IO holds', () => {
    expect(DEFAULT_MAX_BUFFERED_BYTES).toBe(4 * 1024 * 1024);
    expect(bufferedBytes(socket({}))).toBe(0);
    expect(
      bufferedBytes(
        socket({
          transport: { name: 'websocket', socket: { bufferedAmount: 100 } },
          writeBuffer: [
            { data: 'abc' },
            { data: new Uint8Array(5) },
            { data: new ArrayBuffer(7) },
            { data: 9 },
            {},
          ],
        }),
      ),
    ).toBe(115);
    expect(bufferedBytes(socket({ transport: { name: 'websocket' } }))).toBe(0);
    // A long-polling transport has no WebSocket buffer, whatever its socket says.
    expect(bufferedBytes(socket({ transport: { name: 'polling', socket: { bufferedAmount: 100 } } }))).toBe(
      0,
    );
  });

  it('drops, at each interval, the connections over the limit and no other', () => {
    const dropped: string[] = [];
    const make = (name: string, bytes: number) => ({
      name,
      conn: {
        transport: {
          name: 'websocket',
          socket: { bufferedAmount: bytes, terminate: () => dropped.push(`t:${name}`) },
        },
        close: (discard: boolean) => dropped.push(`c:${name}:${discard}`),
      },
    });
    const sockets = [make('fast', 10), make('edge', 100), make('slow', 101)];
    const closed: [string, number][] = [];
    const watch = watchSlowConsumers(() => sockets as unknown as Socket[], {
      maxBytes: 100,
      intervalMs: 500,
      onClose: (s, bytes) => closed.push([(s as unknown as { name: string }).name, bytes]),
    });
    vi.advanceTimersByTime(499);
    expect(closed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(closed).toEqual([['slow', 101]]);
    expect(dropped).toEqual(['t:slow', 'c:slow:true']);
    watch.stop();
    vi.advanceTimersByTime(5_000);
    expect(closed).toHaveLength(1);
  });

  it('looks every second by default', () => {
    const closed: number[] = [];
    const conn = { writeBuffer: [{ data: 'xx' }], close: () => {} };
    const watch = watchSlowConsumers(() => [{ conn } as unknown as Socket], {
      maxBytes: 1,
      onClose: (_s, bytes) => closed.push(bytes),
    });
    vi.advanceTimersByTime(999);
    expect(closed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(closed).toEqual([2]);
    watch.stop();
  });
});

describe('AddressLimiter', () => {
  const limits = {
    maxConnections: 2,
    sends: { perSecond: 10, burst: 3 },
    newRooms: { perSecond: 1, burst: 1 },
  };

  function limiter(store: AddressLimitStore = new MemoryAddressLimitStore(), budgets = limits) {
    return new AddressLimiter(store, 'gw-1', budgets, recordingLogger().log);
  }

  it('has the documented defaults', () => {
    expect(DEFAULT_ADDRESS_LIMITS).toEqual({
      maxConnections: 1_000,
      sends: { perSecond: 100, burst: 200 },
      newRooms: { perSecond: 2, burst: 120 },
    });
  });

  it('counts connections per address across open and close', async () => {
    const l = limiter();
    expect([await l.open('a'), await l.open('a'), await l.open('a'), await l.open('b')]).toEqual([
      true,
      true,
      false,
      true,
    ]);
    l.close('a');
    await vi.advanceTimersByTimeAsync(0);
    expect(await l.open('a')).toBe(true);
    l.stop();
  });

  it('falls back on its own count when the store is away', async () => {
    const store = new MemoryAddressLimitStore();
    const away: AddressLimitStore = {
      open: async () => {
        throw new Error('Redis away');
      },
      close: async () => {
        throw new Error('Redis away');
      },
      refresh: async () => {},
      add: store.add.bind(store),
    };
    const l = limiter(away);
    expect([await l.open('a'), await l.open('a'), await l.open('a')]).toEqual([true, true, false]);
    l.close('a');
    l.close('a');
    expect(await l.open('a')).toBe(true);
    l.close('a');
    l.close('a');
    l.close('a');
    // Closing more than were open never makes room for more than the limit.
    expect([await l.open('a'), await l.open('a'), await l.open('a')]).toEqual([true, true, false]);
    l.stop();
  });

  it('refuses past the burst in a window, with the wait until the next window', () => {
    const l = limiter();
    // Windows of burst / perSecond = 300 ms; start 100 ms into one.
    vi.setSystemTime(3_000_100);
    l.take('sends', 'a');
    l.take('sends', 'a');
    l.take('sends', 'a');
    l.take('sends', 'b');
    l.take('userSends', 'a');
    let refused: unknown;
    try {
      l.take('sends', 'a');
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterMs: 200,
      message: 'too many messages from your address, slow down',
    });
    vi.setSystemTime(3_000_300);
    l.take('sends', 'a');
    l.stop();
  });

  it('names what was refused', () => {
    const l = limiter();
    vi.setSystemTime(2_000_000);
    l.take('newRooms', 'a');
    expect(() => l.take('newRooms', 'a')).toThrow('too many new rooms from your address');
    l.take('userSends', 'u');
    l.take('userSends', 'u');
    l.take('userSends', 'u');
    expect(() => l.take('userSends', 'u')).toThrow('too many messages from your account, slow down');
    l.stop();
  });

  it('shares budgets across gateways through the store, every 250 ms', async () => {
    const store = new MemoryAddressLimitStore();
    // Windows of 3 s: the flushes below stay in one.
    const slow = { ...limits, sends: { perSecond: 1, burst: 3 } };
    const [one, two] = [limiter(store, slow), limiter(store, slow)];
    vi.setSystemTime(3_000_000);
    one.take('sends', 'a');
    one.take('sends', 'a');
    two.take('sends', 'a');
    await vi.advanceTimersByTimeAsync(250);
    // The second to flush learned the cluster's total of the window: all three are used.
    expect(() => two.take('sends', 'a')).toThrow('slow down');
    // The first flushed before the other added to it; it learns with its next flush.
    one.take('sends', 'a');
    await vi.advanceTimersByTimeAsync(250);
    expect(() => one.take('sends', 'a')).toThrow('slow down');
    one.stop();
    two.stop();
  });

  it('flushes 250 ms after the first use since its last flush, and not at all while nobody sends', async () => {
    const memory = new MemoryAddressLimitStore();
    const flushed: number[] = [];
    const store: AddressLimitStore = {
      open: memory.open.bind(memory),
      close: memory.close.bind(memory),
      refresh: memory.refresh.bind(memory),
      add: (kind, window, windowMs, used) => {
        flushed.push(Date.now());
        return memory.add(kind, window, windowMs, used);
      },
    };
    const l = limiter(store, { ...limits, sends: { perSecond: 1, burst: 10 } });
    vi.setSystemTime(3_000_000);
    // Idle: only the 10-s connection refresh is scheduled.
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(flushed).toEqual([]);
    l.take('sends', 'a');
    await vi.advanceTimersByTimeAsync(100);
    l.take('sends', 'a');
    // One flush is due for both uses.
    expect(vi.getTimerCount()).toBe(2);
    await vi.advanceTimersByTimeAsync(150);
    expect(flushed).toEqual([3_005_250]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(flushed).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(1);
    l.take('sends', 'a');
    await vi.advanceTimersByTimeAsync(250);
    expect(flushed).toEqual([3_005_250, 3_006_500]);
    l.stop();
    l.take('sends', 'a');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps counting locally when the store is away', async () => {
    const failing: AddressLimitStore = {
      open: async () => true,
      close: async () => {},
      refresh: async () => {},
      add: async () => {
        throw new Error('Redis away');
      },
    };
    const l = limiter(failing);
    vi.setSystemTime(3_000_000);
    l.take('sends', 'a');
    l.take('sends', 'a');
    await vi.advanceTimersByTimeAsync(250);
    l.take('sends', 'a');
    expect(() => l.take('sends', 'a')).toThrow('slow down');
    l.stop();
  });

  it('re-asserts its connection counts every 10 s, only while it has some', async () => {
    const refreshed: [string, Map<string, number>][] = [];
    const memory = new MemoryAddressLimitStore();
    const store: AddressLimitStore = {
      open: memory.open.bind(memory),
      close: memory.close.bind(memory),
      add: memory.add.bind(memory),
      refresh: async (node, counts) => {
        refreshed.push([node, new Map(counts)]);
      },
    };
    const l = limiter(store);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(refreshed).toEqual([]);
    await l.open('a');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(refreshed).toEqual([['gw-1', new Map([['a', 1]])]]);
    l.stop();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(refreshed).toHaveLength(1);
  });
});

describe('MemoryAddressLimitStore', () => {
  it('adds usage per kind and window, and forgets older windows', async () => {
    const store = new MemoryAddressLimitStore();
    expect(await store.add('sends', 5, 300, new Map([['a', 2]]))).toEqual(new Map([['a', 2]]));
    expect(await store.add('sends', 5, 300, new Map([['a', 1]]))).toEqual(new Map([['a', 3]]));
    expect(await store.add('newRooms', 5, 300, new Map([['a', 1]]))).toEqual(new Map([['a', 1]]));
    expect(await store.add('sends', 6, 300, new Map([['a', 1]]))).toEqual(new Map([['a', 1]]));
    // Window 5 of `sends` is gone; `newRooms` keeps its own.
    expect(await store.add('sends', 5, 300, new Map([['a', 1]]))).toEqual(new Map([['a', 1]]));
    expect(await store.add('newRooms', 5, 300, new Map([['a', 1]]))).toEqual(new Map([['a', 2]]));
  });
});
