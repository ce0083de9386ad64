import type { NodeReport } from '@chorus/protocol';
import type { Logger } from '../logger';
import type { GatewayMetrics } from '../metrics/metrics';
import { type ClusterStats, REPORT_INTERVAL_MS } from './cluster-stats';

export interface StatsReporterOptions {
  store: ClusterStats;
  nodeId: string;
  metrics: GatewayMetrics;
  logger: Logger;
  isDraining: () => boolean;
  intervalMs?: number;
}

export interface StatsReporter {
  /** Reports at once (e.g. when the drain starts), besides the regular reports. */
  reportNow(): Promise<void>;
  /** Stops reporting and removes this gateway's report, so it leaves the cluster page at once. Never throws. */
  stop(): Promise<void>;
}

/**
 * Reports this gateway's load to the cluster stats every `intervalMs`, with message rates computed from the
 * counters since the previous report. A failed report is logged once per outage; the gateway then drops out of
 * the list when its last report expires, as a dead one would.
 */
export function startStatsReporter(options: StatsReporterOptions): StatsReporter {
  const { store, nodeId, metrics, logger } = options;
  const startedAt = Date.now();
  let last = { at: performance.now(), messagesIn: 0, messagesOut: 0 };
  let failing = false;
  let stopped = false;
  let stopping: Promise<void> | undefined;
  // Reports run one after another, so a stop's removal is never overtaken by a report still in flight.
  let queue: Promise<void> = Promise.resolve();

  const perSecond = (delta: number, ms: number) => (ms > 0 ? Math.round((delta * 1000 * 100) / ms) / 100 : 0);

  async function report(): Promise<void> {
    const totals = await metrics.totals();
    const now = performance.now();
    const elapsed = now - last.at;
    const load = metrics.load();
    const entry: NodeReport = {
      node: nodeId,
      connections: load.socketio + load.plain,
      rooms: load.rooms,
      messagesInPerSec: perSecond(totals.messagesIn - last.messagesIn, elapsed),
      messagesOutPerSec: perSecond(totals.messagesOut - last.messagesOut, elapsed),
      startedAt,
      reportedAt: Date.now(),
      draining: options.isDraining(),
    };
    last = { at: now, ...totals };
    try {
      await store.report(entry);
      if (failing) logger.info('cluster stats report restored');
      failing = false;
    } catch (error) {
      if (!failing)
        logger.warn({ err: { message: (error as Error).message } }, 'cluster stats report failed');
      failing = true;
    }
  }

  const enqueue = (): Promise<void> => {
    if (stopped) return queue;
    queue = queue.then(report, report);
    return queue;
  };

  void enqueue();
  const timer = setInterval(enqueue, options.intervalMs ?? REPORT_INTERVAL_MS);
  timer.unref();

  return {
    reportNow: enqueue,
    stop() {
      stopping ??= (async () => {
        stopped = true;
        clearInterval(timer);
        await queue;
        await store.remove(nodeId).catch((error: unknown) => {
          logger.warn(
            { err: { message: (error as Error).message } },
            'could not remove cluster stats report',
          );
        });
      })();
      return stopping;
    },
  };
}
