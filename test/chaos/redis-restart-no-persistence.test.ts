import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHAOS_GATEWAY_ENV, expectGuarantee, roomNames, rotate } from '../support/chaos';
import { printReport } from '../support/checker';
import { DeliveryHistory } from '../support/delivery-history';
import { closeAllProcessClusters, startProcessCluster } from '../support/gateway-process';
import {
  chatFor,
  closeAllParticipants,
  type Participant,
  quiesce,
  sdkParticipant,
} from '../support/participants';
import { rawParticipant } from '../support/raw-participant';
import { startRedisServer, type TestRedis } from '../support/redis';
import { eventually, sleep } from '../support/wait';

const ROOMS = 4;

let redis: TestRedis | undefined;
beforeAll(async () => {
  // Always a private server without persistence: a restart empties it.
  redis = await startRedisServer({ appendOnly: false });
});
afterEach(async () => {
  closeAllParticipants();
  await closeAllProcessClusters();
});
afterAll(async () => {
  await closeAllProcessClusters();
  await redis?.stop();
});

describe('Redis restarted empty mid-run', () => {
  it('moves every room to a new epoch, reloads each member exactly once, and shows nothing stale as new', async () => {
    const startedAt = Date.now();
    const cluster = await startProcessCluster({ redisUrl: redis!.url, gateways: 3, env: CHAOS_GATEWAY_ENV });
    const urls = cluster.gateways.map((g) => g.url);
    const rooms = roomNames(ROOMS);
    const history = new DeliveryHistory();
    const everyone: Participant[] = [
      ...Array.from({ length: 24 }, (_, i) => sdkParticipant(history, `sdk${i}`, { urls: rotate(urls, i) })),
      ...Array.from({ length: 4 }, (_, i) => rawParticipant(history, `raw${i}`, { urls: rotate(urls, i) })),
    ];
    await Promise.all(everyone.map((p, i) => p.join(rooms[i % ROOMS]!)));

    const load = chatFor(everyone, 9_000, { intervalMs: 400 });
    await sleep(2_500);
    const restartedAt = Date.now();
    await redis!.restart!({ downMs: 1_500 });
    // Every member of every room hears that its history was lost.
    await eventually(
      () => {
        for (const p of everyone) {
          for (const room of p.rooms) {
            const reloaded = history.resets.some((r) => r.client === p.name && r.room === room);
            if (!reloaded) throw new Error(`${p.name} has not reloaded ${room}`);
          }
        }
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    const allReloadedIn = Date.now() - restartedAt;
    await load;
    await quiesce(history, everyone, { timeoutMs: 20_000 });

    const report = history.check();
    printReport('Redis restart without persistence (3 processes, 24 SDK + 4 raw clients, 4 rooms)', report, {
      allReloadedMs: allReloadedIn,
      runtime: `${((Date.now() - startedAt) / 1000).toFixed(1)}s`,
    });
    // Before the loss, as after it, within each epoch: the guarantee holds; across it, only reloads.
    expectGuarantee(report);
    expect(report.totals.pending, 'unsettled sends').toBe(0);
    const epochsOf = (room: string) =>
      new Set(
        history.sends.flatMap((s) =>
          s.room === room && s.outcome.kind === 'acked' ? [s.outcome.epoch] : [],
        ),
      );
    for (const room of rooms) {
      const epochs = [...epochsOf(room)];
      expect(epochs.length, `epochs of ${room}`).toBe(2);
      // Each member reloaded once, into the new epoch.
      const after = epochs.at(-1);
      for (const p of everyone.filter((q) => q.rooms.includes(room))) {
        const reloads = history.resets.filter((r) => r.client === p.name && r.room === room);
        expect(
          reloads.map((r) => r.epoch),
          `${p.name} reloaded ${room}`,
        ).toEqual([after]);
      }
    }
  }, 60_000);
});
