import type { RunMeasurement, Scenario } from './scenario';
import { smallRoomsShape } from './small-rooms';
import { runTraffic } from './traffic';

/**
 * The small-rooms load at a rate raised step by step (× `factor`) until p99 goes over the limit or a delivery
 * or ack is missing: the highest rate held. Each step is a full run of `durationMs`. Only with `--saturation`.
 */
export const saturation: Scenario = {
  id: 'saturation',
  describe: (s) =>
    `small-rooms shape from ${s.saturation.startRatePerS} msg/s, × ${s.saturation.factor} per step, until p99 > ${s.saturation.p99LimitMs} ms or a delivery is missing`,
  layout: 'traffic',
  headline: { key: 'extra.heldRatePerS', label: 'highest rate held, msg/s', higherIsBetter: true },
  extraColumns: [
    { key: 'extra.heldRatePerS', header: 'held msg/s' },
    { key: 'extra.failedAtRatePerS', header: 'failed at msg/s' },
  ],
  unsupported: () => undefined,
  async run(target, context) {
    const { startRatePerS, factor, maxSteps, p99LimitMs } = context.settings.saturation;
    let rate = startRatePerS;
    let held: RunMeasurement | undefined;
    let heldRate: number | null = null;
    let failedAt: number | null = null;
    let last: RunMeasurement | undefined;
    for (let step = 1; step <= maxSteps; step++) {
      const stepContext = {
        ...context,
        tag: `${context.tag}s${step}`,
        status: (line: string) => context.status(`${rate} msg/s: ${line}`),
      };
      last = await runTraffic(target, { ...smallRoomsShape(context.settings), ratePerS: rate }, stepContext);
      const p99 = last.latencyMs?.p99 ?? Number.POSITIVE_INFINITY;
      if (p99 > p99LimitMs || last.missing > 0 || last.failed > 0) {
        failedAt = rate;
        break;
      }
      held = last;
      heldRate = rate;
      rate = Math.round(rate * factor);
    }
    const shown = held ?? last!;
    return { ...shown, extra: { ...shown.extra, heldRatePerS: heldRate, failedAtRatePerS: failedAt } };
  },
};
