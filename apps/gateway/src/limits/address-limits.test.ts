import { describe, expect, it } from 'vitest';
import { useRedis } from '../../../../test/support/hooks';
import { uniquePrefix } from '../../../../test/support/redis';
import type { AddressLimitStore } from './address-limits';
import { MemoryAddressLimitStore } from './address-limits.memory';
import { RedisAddressLimitStore, USAGE_BUCKETS, usageBucket } from './address-limits.redis';

const redis = useRedis();

// One suite, both twins: the embedded store and the cluster's must count alike.
const implementations: [string, () => AddressLimitStore][] = [
  ['MemoryAddressLimitStore', () => new MemoryAddressLimitStore()],
  [
    'RedisAddressLimitStore',
    () => new RedisAddressLimitStore(redis.connect(), { prefix: uniquePrefix('lim') }),
  ],
];

describe.each(implementations)('%s', (_name, make) => {
  it('counts an address’s connections across gateways up to the limit, and uncounts closed ones', async () => {
    const store = make();
    expect(await store.open('a', 'gw-1', 3)).toBe(true);
    expect(await store.open('a', 'gw-2', 3)).toBe(true);
    expect(await store.open('a', 'gw-2', 3)).toBe(true);
    expect(await store.open('a', 'gw-1', 3)).toBe(false);
    expect(await store.open('b', 'gw-1', 3)).toBe(true);
    await store.close('a', 'gw-2');
    expect(await store.open('a', 'gw-1', 3)).toBe(true);
    expect(await store.open('a', 'gw-1', 3)).toBe(false);
    await store.close('a', 'gw-2');
    await store.close('a', 'gw-1');
    await store.close('a', 'gw-1');
    // Closing what is not counted (any more) changes nothing.
    await store.close('a', 'gw-3');
    expect(await store.open('a', 'gw-1', 3)).toBe(true);
    expect(await store.open('a', 'gw-1', 3)).toBe(true);
    expect(await store.open('a', 'gw-1', 3)).toBe(true);
    expect(await store.open('a', 'gw-1', 3)).toBe(false);
  });

  it('adds usage per kind, window and address, and answers the totals', async () => {
    const store = make();
    expect(await store.add('sends', 7, 1_000, new Map([['a', 2]]))).toEqual(new Map([['a', 2]]));
    expect(
      await store.add(
        'sends',
        7,
        1_000,
        new Map([
          ['a', 3],
          ['b', 1],
        ]),
      ),
    ).toEqual(
      new Map([
        ['a', 5],
        ['b', 1],
      ]),
    );
    expect(await store.add('newRooms', 7, 1_000, new Map([['a', 1]]))).toEqual(new Map([['a', 1]]));
    expect(await store.add('sends', 8, 1_000, new Map([['a', 1]]))).toEqual(new Map([['a', 1]]));
    expect(await store.add('sends', 8, 1_000, new Map())).toEqual(new Map());
  });
});

describe('RedisAddressLimitStore', () => {
  it('forgets a gateway’s connections once it stops re-asserting them, and keeps them while it does', async () => {
    const connection = redis.connect();
    const prefix = uniquePrefix('lim');
    const store = new RedisAddressLimitStore(connection, { prefix });
    await store.open('a', 'gw-1', 2);
    await store.open('a', 'gw-dead', 2);
    expect(await store.open('a', 'gw-1', 2)).toBe(false);
    // The dead gateway's count expires (as after CONNECTION_COUNT_TTL_MS without a refresh).
    await connection.del(`${prefix}{lim:a}:conn:gw-dead`);
    expect(await store.open('a', 'gw-1', 2)).toBe(true);
    await store.refresh('gw-1', new Map([['a', 1]]));
    expect(await connection.get(`${prefix}{lim:a}:conn:gw-1`)).toBe('1');
    expect(await connection.pttl(`${prefix}{lim:a}:conn:gw-1`)).toBeGreaterThan(25_000);
    expect(await connection.smembers(`${prefix}{lim:a}:nodes`)).toEqual(['gw-1']);
    expect(await store.open('a', 'gw-2', 2)).toBe(true);
    expect(await store.open('a', 'gw-2', 2)).toBe(false);
    const usage = `${prefix}{limb:${usageBucket('a')}}:sends:9`;
    await store.add('sends', 9, 1_000, new Map([['a', 1]]));
    expect(await connection.pttl(usage)).toBeGreaterThan(1_500);
    // A second store on the same connection shares its scripts.
    const again = new RedisAddressLimitStore(connection, { prefix });
    expect(await again.add('sends', 9, 1_000, new Map([['a', 1]]))).toEqual(new Map([['a', 2]]));
  });

  it('adds the usage of many addresses in a few hashes, not a key (and a script) per address', async () => {
    const connection = redis.connect();
    const prefix = uniquePrefix('lim');
    const store = new RedisAddressLimitStore(connection, { prefix });
    const usage = new Map(
      Array.from({ length: 3_000 }, (_, i) => [`10.0.${i >> 8}.${i & 255}`, (i % 7) + 1]),
    );
    const first = await store.add('userSends', 3, 2_000, usage);
    expect(first).toEqual(usage);
    const second = await store.add('userSends', 3, 2_000, usage);
    expect(second).toEqual(new Map([...usage].map(([address, amount]) => [address, amount * 2])));
    const keys = await connection.keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThan(USAGE_BUCKETS / 2);
    expect(keys.length).toBeLessThanOrEqual(USAGE_BUCKETS);
    for (const key of keys) expect(key).toMatch(/^.*\{limb:\d+\}:userSends:3$/);
    // Buckets of another window or kind are apart.
    expect(await store.add('sends', 3, 2_000, new Map([['10.0.0.1', 1]]))).toEqual(
      new Map([['10.0.0.1', 1]]),
    );
    expect(await store.add('userSends', 4, 2_000, new Map([['10.0.0.1', 1]]))).toEqual(
      new Map([['10.0.0.1', 1]]),
    );
  });

  it('reports Redis being away as UNAVAILABLE', async () => {
    const connection = redis.connect();
    const store = new RedisAddressLimitStore(connection, { prefix: uniquePrefix('lim') });
    connection.disconnect();
    await expect(store.open('a', 'gw-1', 1)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
