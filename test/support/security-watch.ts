import { afterEach, beforeEach, expect } from 'vitest';
import { connectClient, type TestClient } from './clients';
import { onClusterStarted, type TestCluster } from './cluster';

/** What one security test cost the cluster, kept in the test's meta for the summary table (security-reporter). */
export interface SecurityFigures {
  /** Requests the cluster's gateways answered with an error (any code), plus plain frames refused. */
  refused: number;
  /** Requests the bystander made during the test, its p99 and slowest ack in ms (a missing ack counts 1 s). */
  bystanderAcks: number;
  bystanderP99Ms: number;
  bystanderMaxMs: number;
  /** Highest resident memory of the test process (which runs the gateways) during the test, in MiB. */
  peakRssMiB: number;
}

declare module 'vitest' {
  interface TaskMeta {
    security?: SecurityFigures;
  }
}

/** The bystander's own client address (behind the trusted loopback proxy), so no test's address limits touch it. */
const BYSTANDER_ADDRESS = '203.0.113.254';
const BYSTANDER_EVERY_MS = 100;
const ACK_TIMEOUT_MS = 1_000;
/** A bystander is served "within 1 s throughout": its p99 must stay under this. */
const BYSTANDER_P99_LIMIT_MS = 1_000;
/** Whatever a test throws at the gateways, the process holding them stays under this. */
const RSS_LIMIT_MIB = 1_536;

/**
 * Watches every test of the file: while it runs, a bystander on the last gateway of each cluster the test starts
 * asks that gateway something every 100 ms (`rooms:list`, which goes to Redis and changes nothing), and the
 * process's memory is sampled. After the test it asserts the bystander was answered within 1 s (p99) and memory
 * stayed bounded, and records the figures for the suite's summary table. Call it after `useCluster`/`useRedis`,
 * so its after-hook runs before theirs close the clusters.
 */
export function useSecurityWatch(): void {
  let stop: (() => Promise<SecurityFigures>) | undefined;

  beforeEach((context) => {
    const latencies: number[] = [];
    const clusters: TestCluster[] = [];
    const bystanders: TestClient[] = [];
    let running = true;
    let peakRss = process.memoryUsage.rss();
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
    }, 50);

    const watch = async (cluster: TestCluster) => {
      clusters.push(cluster);
      const gateway = cluster.gateways.at(-1)!;
      const client = await connectClient(gateway.url, {
        name: 'bystander',
        extraHeaders: { 'x-forwarded-for': BYSTANDER_ADDRESS },
      }).catch(() => undefined);
      if (!client) return;
      bystanders.push(client);
      while (running && client.socket.connected) {
        const started = performance.now();
        const answer = await Promise.race([
          client.request('rooms:list', { limit: 1 }).catch(() => undefined),
          new Promise<undefined>((resolve) => setTimeout(resolve, ACK_TIMEOUT_MS)),
        ]);
        // A request cut short by the end of the test is not the cluster's delay.
        if (!running) break;
        latencies.push(answer === undefined ? ACK_TIMEOUT_MS : performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, BYSTANDER_EVERY_MS));
      }
    };
    const unlisten = onClusterStarted((cluster) => void watch(cluster));

    stop = async () => {
      unlisten();
      running = false;
      clearInterval(sampler);
      for (const client of bystanders) client.close();
      const refused = (await Promise.all(clusters.flatMap((c) => c.gateways.map(refusedBy)))).reduce(
        (a, b) => a + b,
        0,
      );
      const sorted = [...latencies].sort((a, b) => a - b);
      const figures: SecurityFigures = {
        refused,
        bystanderAcks: sorted.length,
        bystanderP99Ms: Math.round(
          sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0,
        ),
        bystanderMaxMs: Math.round(sorted.at(-1) ?? 0),
        peakRssMiB: Math.round(peakRss / 2 ** 20),
      };
      context.task.meta.security = figures;
      return figures;
    };
  });

  afterEach(async (context) => {
    const figures = await stop?.();
    stop = undefined;
    if (!figures || context.task.result?.state === 'fail') return;
    expect(figures.bystanderP99Ms, 'bystander p99 (ms)').toBeLessThanOrEqual(BYSTANDER_P99_LIMIT_MS);
    expect(figures.peakRssMiB, 'peak RSS (MiB)').toBeLessThanOrEqual(RSS_LIMIT_MIB);
  });
}

/** Requests a gateway answered with an error, from its own metrics. */
async function refusedBy(gateway: TestCluster['gateways'][number]): Promise<number> {
  const registry = gateway.metrics.registry;
  const acks = (await registry.getSingleMetric('chorus_ack_latency_seconds')?.get())?.values ?? [];
  const invalid = (await registry.getSingleMetric('chorus_invalid_payloads_total')?.get())?.values ?? [];
  let refused = 0;
  for (const value of acks) {
    const name = (value as { metricName?: string }).metricName;
    if (name?.endsWith('_count') && value.labels.outcome !== 'ok') refused += value.value;
  }
  for (const value of invalid) if (value.labels.transport === 'plain') refused += value.value;
  return refused;
}
