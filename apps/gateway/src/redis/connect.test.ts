import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { useRedis } from '../../../../test/support/hooks';
import { heardWithin, watchConnection } from './connect';

const redis = useRedis();
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup.splice(0)) step();
});

describe('the Redis link watchdog', () => {
  it('pings a quiet link every interval, and not a link that is answering anyway', async () => {
    const client = new Redis(redis.url);
    await client.ping();
    let pings = 0;
    const ping = client.ping.bind(client);
    client.ping = (() => {
      pings += 1;
      return ping();
    }) as typeof client.ping;
    const stop = watchConnection(client, {
      role: 'test',
      logger: pino({ level: 'silent' }),
      intervalMs: 400,
      timeoutMs: 300,
    });
    cleanup.push(stop, () => client.disconnect());

    // Busy: a reply every 20 ms, so at every look (after the first, which starts watching) it was heard lately.
    await sleep(450);
    const busyFrom = pings;
    const busyUntil = Date.now() + 1_250;
    while (Date.now() < busyUntil) {
      await client.get('nothing');
      await sleep(20);
    }
    expect(heardWithin(client, 200)).toBe(true);
    const busyPings = pings - busyFrom;

    // Quiet: only its own pings answer, one per look.
    const quietFrom = pings;
    await sleep(2_000);
    expect(busyPings).toBeLessThanOrEqual(1);
    expect(pings - quietFrom).toBeGreaterThanOrEqual(2);
  });
});
