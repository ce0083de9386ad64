import type { NodeReport } from '@chorus/protocol';
import { byNode, type ClusterStats, REPORT_TTL_MS } from './cluster-stats';

/** The embedded-mode store: the reports of the gateways of this process, expiring on this process's clock. */
export class MemoryClusterStats implements ClusterStats {
  readonly #reports = new Map<string, { report: NodeReport; expiresAt: number }>();
  readonly #ttlMs: number;

  constructor(options: { ttlMs?: number } = {}) {
    this.#ttlMs = options.ttlMs ?? REPORT_TTL_MS;
  }

  async report(report: NodeReport): Promise<void> {
    this.#reports.set(report.node, { report: { ...report }, expiresAt: Date.now() + this.#ttlMs });
  }

  async remove(node: string): Promise<void> {
    this.#reports.delete(node);
  }

  async list(): Promise<NodeReport[]> {
    const now = Date.now();
    const live: NodeReport[] = [];
    for (const [node, entry] of this.#reports) {
      if (entry.expiresAt <= now) this.#reports.delete(node);
      else live.push({ ...entry.report });
    }
    return live.sort(byNode);
  }
}
