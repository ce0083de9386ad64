import type { Scenario } from './scenario';
import { smallRoomsShape } from './small-rooms';
import { runTraffic } from './traffic';

/**
 * The small-rooms load on gateways 1 and 2 only, gateway 3 hosting nobody: what it costs a gateway to be in
 * the cluster without members. A bus that sends every message to every node (the Redis adapter) makes it pay
 * for all of them; a room-scoped bus should leave it idle.
 */
export const noMemberGateway: Scenario = {
  id: 'no-member-gateway',
  describe: (s) =>
    `the small-rooms load (${s.smallRooms.ratePerS} msg/s) with clients on gateways 1 and 2 only; CPU of gateway 3 ÷ CPU of a hosting gateway`,
  layout: 'traffic',
  headline: {
    key: 'extra.noMemberRatio',
    label: 'gateway-3 CPU ÷ hosting-gateway CPU',
    higherIsBetter: false,
  },
  extraColumns: [
    { key: 'extra.noMemberRatio', header: 'gw-3 ÷ host CPU' },
    { key: 'extra.noMemberCpuPerMessageUs', header: 'gw-3 µs/msg' },
  ],
  unsupported: (target) => {
    if (target.gateways.length < 3) return 'needs 3 gateways';
    if (target.processes.length === 0) return 'needs CPU readings: only for targets the bench starts';
    return undefined;
  },
  async run(target, context) {
    const measurement = await runTraffic(
      target,
      { ...smallRoomsShape(context.settings), hostGateways: [0, 1] },
      context,
    );
    const cpuOf = (i: number) =>
      measurement.cpu?.processes.find((p) => p.name === target.gateways[i]!.name)?.cpuS;
    const [a, b, idle] = [cpuOf(0), cpuOf(1), cpuOf(2)];
    const host = a !== undefined && b !== undefined ? (a + b) / 2 : undefined;
    measurement.extra.noMemberRatio =
      idle !== undefined && host ? Math.round((idle / host) * 1000) / 1000 : null;
    measurement.extra.noMemberCpuPerMessageUs =
      idle !== undefined && measurement.acked > 0 ? Math.round((idle * 1e6) / measurement.acked) : null;
    return measurement;
  },
};
