import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { useRedis } from '../../../../test/support/hooks';
import { uniquePrefix } from '../../../../test/support/redis';
import { MemorySharedSecret } from './shared-secret.memory';
import { RedisSharedSecret } from './shared-secret.redis';

const redis = useRedis();
const SECRET = /^[A-Za-z0-9_-]{43}$/;

describe('MemorySharedSecret', () => {
  it('answers the same random secret every time, another one in another process', async () => {
    const store = new MemorySharedSecret();
    const first = await store.get();
    expect(first).toMatch(SECRET);
    expect(await store.get()).toBe(first);
    expect(await new MemorySharedSecret().get()).not.toBe(first);
  });
});

describe('RedisSharedSecret', () => {
  it('gives every gateway of a prefix the same secret, even when they ask at once for the first time', async () => {
    const prefix = uniquePrefix('secret');
    const stores = Array.from({ length: 5 }, () => new RedisSharedSecret(redis.connect(), { prefix }));
    const secrets = await Promise.all(stores.map((s) => s.get()));
    expect(secrets[0]).toMatch(SECRET);
    expect(new Set(secrets).size).toBe(1);
    // A gateway started later (a restart) reads the one kept in Redis, without expiry.
    expect(await new RedisSharedSecret(redis.connect(), { prefix }).get()).toBe(secrets[0]);
    expect(await redis.connect().ttl(`${prefix}session-secret`)).toBe(-1);
    // Another chat on the same Redis has its own.
    expect(await new RedisSharedSecret(redis.connect(), { prefix: uniquePrefix('secret') }).get()).not.toBe(
      secrets[0],
    );
  });

  it('answers UNAVAILABLE while Redis is away, and reads the secret once it is back', async () => {
    const prefix = uniquePrefix('secret');
    const expected = await new RedisSharedSecret(redis.connect(), { prefix }).get();
    const link = new Redis(redis.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    try {
      const store = new RedisSharedSecret(link, { prefix });
      await expect(store.get()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      // The refused command set the lazy link connecting.
      if (link.status !== 'ready') await new Promise((resolve) => link.once('ready', resolve));
      expect(await store.get()).toBe(expected);
    } finally {
      link.disconnect();
    }
  });
});
