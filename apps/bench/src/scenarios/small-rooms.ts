import type { Scenario, ScenarioSettings } from './scenario';
import type { TrafficShape } from './traffic';
import { runTraffic } from './traffic';

/** The small-rooms shape, shared with no-member-gateway and saturation. */
export function smallRoomsShape(settings: ScenarioSettings): TrafficShape {
  const { clients, roomSize, ratePerS, placement } = settings.smallRooms;
  return { clients, roomSize, ratePerS, placement, durationMs: settings.durationMs };
}

/** Many rooms of a few members each, spread over the gateways: the cost is per message, not per recipient. */
export const smallRooms: Scenario = {
  id: 'small-rooms',
  describe: (s) => {
    const { clients, roomSize, ratePerS, placement } = s.smallRooms;
    const where =
      placement === 'room' ? "each room's members on one gateway" : 'round-robin over the gateways';
    return `${clients} clients in ${Math.ceil(clients / roomSize)} rooms of ${roomSize}, ${where}, ${ratePerS} msg/s in total`;
  },
  layout: 'traffic',
  headline: { key: 'deliveriesPerCpuS', label: 'deliveries per CPU-second', higherIsBetter: true },
  extraColumns: [],
  unsupported: () => undefined,
  run: (target, context) => runTraffic(target, smallRoomsShape(context.settings), context),
};
