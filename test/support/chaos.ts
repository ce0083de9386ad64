import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { Report } from './checker';
import { DeliveryHistory } from './delivery-history';
import { closeAllProcessClusters, startProcessCluster } from './gateway-process';
import { closeAllParticipants, type Participant, sdkParticipant } from './participants';
import { rawParticipant } from './raw-participant';
import type { TestRedis } from './redis';

/** Gateway settings for chaos runs: sends are limited by the test's pace, not the per-connection budget. */
export const CHAOS_GATEWAY_ENV: Readonly<Record<string, string>> = Object.freeze({
  RATE_LIMIT_PER_SECOND: '1000',
  RATE_LIMIT_BURST: '1000',
  // Every chaos client connects from 127.0.0.1: one address, far more traffic than one person's.
  ADDRESS_SEND_RATE: '100000',
  ADDRESS_SEND_BURST: '100000',
  ADDRESS_NEW_ROOM_RATE: '100000',
  ADDRESS_NEW_ROOM_BURST: '100000',
});

/** `urls` rotated by `i`, so client i starts on gateway i mod n and moves on in the same order. */
export function rotate<T>(items: readonly T[], i: number): T[] {
  const k = i % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** Room names r0 … r(n-1), with a per-test tag so a shared Redis never mixes runs. */
export function roomNames(count: number, tag = ''): string[] {
  return Array.from({ length: count }, (_, i) => `${tag}r${i}`);
}

/**
 * Asserts the delivery guarantee on a checked history: nothing acknowledged lost by a member present
 * throughout, nothing seen twice after dedupe, nothing never sent, one content per seq, seq order per client,
 * nothing stored twice, no holes in what a member saw; and on the wire, before any dedupe, nothing twice on
 * one connection, live seqs ascending per connection, and every `recovered` resume exact.
 */
export function expectGuarantee(report: Report): void {
  const { totals } = report;
  const found = {
    lost: totals.lost,
    duplicated: totals.duplicated,
    unexpected: totals.unexpected,
    disagreements: totals.disagreements,
    outOfOrder: totals.outOfOrder,
    storedTwice: totals.storedTwice,
    gaps: totals.gaps,
    stale: totals.stale,
    rawDuplicates: totals.rawDuplicates,
    rawOutOfOrder: totals.rawOutOfOrder,
    rawBadResumes: totals.rawBadResumes,
  };
  expect(found, `delivery anomalies, e.g. ${JSON.stringify(report.examples)}`).toEqual({
    lost: 0,
    duplicated: 0,
    unexpected: 0,
    disagreements: 0,
    outOfOrder: 0,
    storedTwice: 0,
    gaps: 0,
    stale: 0,
    rawDuplicates: 0,
    rawOutOfOrder: 0,
    rawBadResumes: 0,
  });
  expect(totals.acked, 'the run acknowledged some sends').toBeGreaterThan(0);
  // The raw checks above judged something: the participants recorded what arrived on their connections.
  expect(totals.rawDeliveries, 'raw arrivals recorded').toBeGreaterThan(0);
}

/**
 * The hooks of a chaos file that runs gateway processes: the Redis `start` gives (started once per file, stopped
 * after it), and every participant and gateway process closed after each test.
 */
export function useChaosRedis(start: () => Promise<TestRedis>): { readonly server: TestRedis } {
  let redis: TestRedis | undefined;
  beforeAll(async () => {
    redis = await start();
  });
  afterEach(async () => {
    closeAllParticipants();
    await closeAllProcessClusters();
  });
  afterAll(async () => {
    await closeAllProcessClusters();
    await redis?.stop();
  });
  return {
    get server() {
      if (!redis) throw new Error('useChaosRedis: Redis is not running; use it inside a test');
      return redis;
    },
  };
}

/**
 * Three gateway processes on `redisUrl` (or `cluster:<seeds>`, see `startProcessCluster`) with `env`, and `sdk` SDK clients plus `raw` raw clients spread over them (client i
 * starts on gateway i mod 3) and over `rooms` rooms (client i in room i mod rooms), all joined.
 */
export async function startChaosRun(
  redisUrl: string,
  counts: { sdk: number; raw: number; rooms: number },
  env: Record<string, string> = {},
) {
  const cluster = await startProcessCluster({ redisUrl, gateways: 3, env: { ...CHAOS_GATEWAY_ENV, ...env } });
  const urls = cluster.gateways.map((g) => g.url);
  const rooms = roomNames(counts.rooms);
  const history = new DeliveryHistory();
  const sdk = Array.from({ length: counts.sdk }, (_, i) =>
    sdkParticipant(history, `sdk${i}`, { urls: rotate(urls, i) }),
  );
  // Raw clients hop to the next URL by themselves when their gateway goes away.
  const raw = Array.from({ length: counts.raw }, (_, i) =>
    rawParticipant(history, `raw${i}`, { urls: rotate(urls, i) }),
  );
  const everyone: Participant[] = [...sdk, ...raw];
  await Promise.all(everyone.map((p, i) => p.join(rooms[i % counts.rooms]!)));
  return { cluster, urls, rooms, history, sdk, raw, everyone };
}
