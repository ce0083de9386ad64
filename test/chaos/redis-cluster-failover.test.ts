import { describe, expect, it } from 'vitest';
import { expectGuarantee, startChaosRun } from '../support/chaos';
import { printReport } from '../support/checker';
import { closeAllProcessClusters } from '../support/gateway-process';
import { useRedisCluster } from '../support/hooks';
import { chatFor, closeAllParticipants, quiesce } from '../support/participants';
import { sleep } from '../support/wait';

const ROOMS = 6;
const redis = useRedisCluster();

/**
 * Kills the master that holds room r0 while 3 gateway processes and 30 clients chat in 6 rooms, lets its
 * replica take over, and checks the run with the total-queue checker.
 */
async function failoverRun(waitReplicas: number) {
  const startedAt = Date.now();
  const seeds = redis.seeds.join(',');
  const { history, everyone, cluster } = await startChaosRun(
    `cluster:${seeds}`,
    { sdk: 24, raw: 6, rooms: ROOMS },
    { REDIS_WAIT_REPLICAS: String(waitReplicas), REDIS_WAIT_TIMEOUT_MS: '500' },
  );
  try {
    const load = chatFor(everyone, 8_000, { intervalMs: 400 });
    await sleep(2_500);
    const victim = await redis.cluster.masterOf(`${cluster.prefix}room:{r0}:seq`);
    await victim.kill();
    const killedAt = Date.now();
    await redis.cluster.waitHealthy(20_000);
    const failoverMs = Date.now() - killedAt;
    // A supervisor restarts the dead node; it rejoins as a replica of its successor. Until it has synced, the
    // shard has no replica, and with REDIS_WAIT_REPLICAS=1 its rooms' sends wait (UNAVAILABLE, retried).
    await victim.start();
    await load;
    await quiesce(history, everyone, { timeoutMs: 25_000 });
    const report = history.check();
    printReport(
      `Redis Cluster master kill -9, REDIS_WAIT_REPLICAS=${waitReplicas} (3 gateways, 30 clients)`,
      report,
      {
        failoverMs,
        runtime: `${((Date.now() - startedAt) / 1000).toFixed(1)}s`,
      },
    );
    await redis.cluster.waitHealthy(20_000);
    return report;
  } finally {
    closeAllParticipants();
    await closeAllProcessClusters();
  }
}

describe('a Redis Cluster master killed mid-run', () => {
  it('with REDIS_WAIT_REPLICAS=1: the replica takes over and no acknowledged message is lost or repeated', async () => {
    const report = await failoverRun(1);
    expectGuarantee(report);
    expect(report.totals.pending + report.totals.failed + report.totals.timedOut, 'unsettled sends').toBe(0);
  }, 90_000);
});
