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
import { startTestRedis, type TestRedis } from '../support/redis';
import { sleep } from '../support/wait';

const SDK_CLIENTS = 60;
const RAW_CLIENTS = 6;
const ROOMS = 6;

let redis: TestRedis | undefined;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterEach(async () => {
  closeAllParticipants();
  await closeAllProcessClusters();
});
afterAll(async () => {
  await closeAllProcessClusters();
  await redis?.stop();
});

describe('a gateway killed with SIGKILL mid-run', () => {
  it('loses, repeats and invents nothing for SDK and raw clients, who resume on the survivors within 5 s', async () => {
    const startedAt = Date.now();
    const cluster = await startProcessCluster({ redisUrl: redis!.url, gateways: 3, env: CHAOS_GATEWAY_ENV });
    const urls = cluster.gateways.map((g) => g.url);
    const rooms = roomNames(ROOMS);
    const history = new DeliveryHistory();
    const sdk = Array.from({ length: SDK_CLIENTS }, (_, i) =>
      sdkParticipant(history, `sdk${i}`, { urls: rotate(urls, i) }),
    );
    // Raw clients hop to the next URL by themselves when their gateway goes away.
    const raw = Array.from({ length: RAW_CLIENTS }, (_, i) =>
      rawParticipant(history, `raw${i}`, { urls: rotate(urls, i) }),
    );
    const everyone: Participant[] = [...sdk, ...raw];
    await Promise.all(everyone.map((p, i) => p.join(rooms[i % ROOMS]!)));
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
