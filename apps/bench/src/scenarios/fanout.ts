import type { Scenario } from './scenario';
import { runTraffic } from './traffic';

/** One big room: every message goes to every client, so the cost is in the fan-out. */
export const fanout: Scenario = {
  id: 'fanout',
  describe: (s) =>
    `one room of ${s.fanout.clients} clients spread over the gateways, ${s.fanout.ratePerS} msg/s in total`,
  layout: 'traffic',
  headline: { key: 'deliveriesPerCpuS', label: 'deliveries per CPU-second', higherIsBetter: true },
  extraColumns: [],
  unsupported: () => undefined,
  run: (target, context) =>
    runTraffic(
      target,
      {
        clients: context.settings.fanout.clients,
        roomSize: context.settings.fanout.clients,
        ratePerS: context.settings.fanout.ratePerS,
        durationMs: context.settings.durationMs,
      },
      context,
    ),
};
