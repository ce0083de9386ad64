import type { NodeReport } from '@chorus/protocol';

/**
 * The live gateways of the cluster, as they report themselves. Each gateway reports every
 * `REPORT_INTERVAL_MS`; a report expires after `REPORT_TTL_MS`, so a gateway that died without a word drops
 * out of the list by itself, and one that stops cleanly removes its report at once.
 */
export interface ClusterStats {
  /** Records (or replaces) `report` for `report.node`; it expires after the store's TTL. */
  report(report: NodeReport): Promise<void>;
  /** Removes the report of `node` (its clean shutdown). */
  remove(node: string): Promise<void>;
  /** The unexpired reports, ordered by node. */
  list(): Promise<NodeReport[]>;
}

/** A gateway reports this often… */
export const REPORT_INTERVAL_MS = 2_000;
/** …and drops out of the list this long after its last report. */
export const REPORT_TTL_MS = 6_000;

export function byNode(a: NodeReport, b: NodeReport): number {
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}
