import { heapFromMetrics } from '../measure/heap';
import { probeSharedRooms } from './probe';
import type { TargetSpec } from './target';
import { TargetSkipped } from './target';

/**
 * `url`: a deployment the bench did not start (`--url`, one or more). Clients are spread over the URLs; there
 * is no CPU to read, so only latency, throughput and delivery counts are reported, and heap only where the
 * gateways' `/metrics` answer (without a forced GC: the minimum of several samples).
 */
export function externalTarget(urls: readonly string[]): TargetSpec {
  return {
    id: 'url',
    label: 'url',
    description: `the deployment at ${urls.join(', ')} (no CPU figures)`,
    kind: 'external',
    async start() {
      const gateways = urls.map((url, i) => ({
        name: `url/${i + 1}`,
        url,
        pid: undefined,
        heapBytes: () => heapFromMetrics(url).catch(() => undefined),
        forcesGc: false,
      }));
      // Unreachable gateways throw: the target failed, unlike one that runs but does not share rooms.
      const problem = await probeSharedRooms(gateways);
      if (problem) throw new TargetSkipped(problem);
      return { id: 'url', label: 'url', gateways, processes: [], stop: async () => {} };
    },
  };
}
