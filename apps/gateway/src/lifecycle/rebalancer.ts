import type { NodeReport } from '@chorus/protocol';
import { type ClusterStats, REPORT_INTERVAL_MS } from '../admin/cluster-stats';
import type { Logger } from '../logger';

export interface RebalanceOptions {
  nodeId: string;
  /** Every live gateway's last report (this one's included). */
  stats: ClusterStats;
  /** This gateway's Socket.IO connections now. */
  connections(): number;
  /**
   * Moves `count` connections off this gateway by closing their transports: clients reconnect, through the
   * balancer, to the least-loaded gateway, and resume where they were.
   */
  shed(count: number): number;
  logger: Logger;
  /** How often the spread is looked at (default 5000 ms). */
  intervalMs?: number;
  /** Connections moved off per second at most (default 5): gently, so nobody sees a reconnect storm. */
  perSecond?: number;
  /**
   * How far from the cluster average any gateway may be (default 0.2: 20%). Past it, the gateways above the
   * average shed down to it: the fullest one because it is too full, the others because one is too empty.
   */
  tolerance?: number;
  /** Ignore distances from the average smaller than this many connections (default 2). */
  minExcess?: number;
  /** After shedding, wait this long for fresh reports before judging again (default 2 report intervals). */
  settleMs?: number;
  /** Called with the spread after each look: the largest distance of any gateway from the average, as a ratio. */
  onSpread?(spread: number): void;
}

export interface Rebalancer {
  stop(): void;
}

/** The largest distance of any gateway's connections from the cluster average, as a ratio of the average. */
export function connectionSpread(reports: readonly Pick<NodeReport, 'connections'>[]): number {
  if (reports.length === 0) return 0;
  const average = reports.reduce((n, r) => n + r.connections, 0) / reports.length;
  if (average === 0) return 0;
  return Math.max(...reports.map((r) => Math.abs(r.connections - average))) / average;
}

/**
 * Spreads connections back over the gateways after one restarts or is added: a balancer sends only new
 * connections to the emptiest gateway, so without this the old ones keep everything until they drain. Each
 * gateway compares itself with the cluster average (from the stats reports) and, while any gateway is more than
 * `tolerance` from it and this one is above it, sheds a few connections per second down to the average, then
 * waits for fresh reports. Draining gateways are left out of the average: their clients are leaving anyway.
 */
export function startRebalancer(options: RebalanceOptions): Rebalancer {
  const intervalMs = options.intervalMs ?? 5_000;
  const perSecond = options.perSecond ?? 5;
  const tolerance = options.tolerance ?? 0.2;
  const minExcess = options.minExcess ?? 2;
  const settleMs = options.settleMs ?? 2 * REPORT_INTERVAL_MS;
  let busy = false;
  let quietUntil = 0;

  const look = async () => {
    if (busy || Date.now() < quietUntil) return;
    busy = true;
    try {
      const reports = (await options.stats.list()).filter((r) => !r.draining);
      options.onSpread?.(connectionSpread(reports));
      if (reports.length < 2 || !reports.some((r) => r.node === options.nodeId)) return;
      const mine = options.connections();
      // This gateway's own count is live; the others' are up to one report old.
      const counts = reports.map((r) => (r.node === options.nodeId ? mine : r.connections));
      const average = counts.reduce((n, c) => n + c, 0) / counts.length;
      const tooFull = mine > average * (1 + tolerance);
      const someoneTooEmpty = Math.min(...counts) < average * (1 - tolerance);
      if (mine - average < minExcess || !(tooFull || someoneTooEmpty)) return;
      // Down to the average, never more than the rate allows per look; then let the reports catch up.
      const count = Math.min(Math.floor(mine - average), Math.ceil((perSecond * intervalMs) / 1000));
      if (count < 1) return;
      const shed = options.shed(count);
      quietUntil = Date.now() + settleMs;
      options.logger.info(
        { connections: mine, average: Math.round(average), shed },
        'rebalancing connections',
      );
    } catch (error) {
      options.logger.debug({ err: { message: (error as Error).message } }, 'rebalance skipped');
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void look(), intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
