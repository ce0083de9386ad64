import { describe, expect, it } from 'vitest';
import { expectGuarantee, startChaosRun, useChaosRedis } from '../support/chaos';
import { printReport } from '../support/checker';
import { chatFor, quiesce } from '../support/participants';
import { startTestRedis } from '../support/redis';
import { sleep } from '../support/wait';

const SDK_CLIENTS = 60;
const RAW_CLIENTS = 6;
const ROOMS = 6;

const redis = useChaosRedis(() => startTestRedis());

describe('a gateway killed with SIGKILL mid-run', () => {
  it('loses, repeats and invents nothing for SDK and raw clients, who resume on the survivors within 5 s', async () => {
    const startedAt = Date.now();
    const { cluster, rooms, history, sdk, everyone } = await startChaosRun(redis.server.url, {
      sdk: SDK_CLIENTS,
      raw: RAW_CLIENTS,
      rooms: ROOMS,
    });
    // Every fifth member is in a second room too.
    await Promise.all(
      everyone.filter((_, i) => i % 5 === 0).map((p, i) => p.join(rooms[(i * 5 + 3) % ROOMS]!)),
    );
    const victim = cluster.gateways[1]!;
    const onVictim = sdk.filter((p) => p.client.session?.node === victim.nodeId);
    expect(onVictim.length).toBeGreaterThanOrEqual(SDK_CLIENTS / 3 - 1);

    const load = chatFor(everyone, 9_000, { intervalMs: 500 });
    await sleep(3_000);
    const exit = await victim.kill9();
    expect(exit.signal).toBe('SIGKILL');
    await load;
    await quiesce(history, everyone, { timeoutMs: 20_000 });

    const report = history.check();
    printReport('gateway kill -9 (3 processes, 60 SDK + 6 raw clients, 6 rooms)', report, {
      moved: onVictim.length,
      runtime: `${((Date.now() - startedAt) / 1000).toFixed(1)}s`,
    });
    expectGuarantee(report);
    expect(report.totals.pending + report.totals.failed + report.totals.timedOut, 'unsettled sends').toBe(0);
    expect(report.totals.resets).toBe(0);
    for (const p of onVictim) expect(p.client.session?.node).not.toBe(victim.nodeId);
    // Every client of the victim, SDK or raw, reported a reconnect.
    expect(report.reconnects.count).toBeGreaterThanOrEqual(onVictim.length);
    expect(report.reconnects.p99).toBeLessThanOrEqual(5_000);
  }, 60_000);
});
