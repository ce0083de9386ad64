import { describe, expect, it } from 'vitest';
import { expectGuarantee, startChaosRun, useChaosRedis } from '../support/chaos';
import { printReport } from '../support/checker';
import { chatFor, quiesce } from '../support/participants';
import { startRedisServer } from '../support/redis';
import { eventually, sleep } from '../support/wait';

const ROOMS = 4;

// Always a private server without persistence: a restart empties it.
const redis = useChaosRedis(() => startRedisServer({ appendOnly: false }));

describe('Redis restarted empty mid-run', () => {
  it('moves every room to a new epoch, reloads each member exactly once, and shows nothing stale as new', async () => {
    const startedAt = Date.now();
    const { rooms, history, everyone } = await startChaosRun(redis.server.url, {
      sdk: 24,
      raw: 4,
      rooms: ROOMS,
    });

    const load = chatFor(everyone, 9_000, { intervalMs: 400 });
    await sleep(2_500);
    const restartedAt = Date.now();
    await redis.server.restart!({ downMs: 1_500 });
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
