import type { RunMeasurement, Scenario } from './scenario';
import { smallRoomsShape } from './small-rooms';
import { runTraffic } from './traffic';

/**
 * The small-rooms load at a rate raised step by step (× `factor`) until p99 goes over the limit or a delivery
 * or ack is missing: the highest rate held, and how the first step past it went (p99, refusals, losses). Each step
 * is a full run of `durationMs`. Only with `--saturation`.
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
    // How it failed: a cluster should degrade by latency, not by refusing or losing work.
    { key: 'extra.pastP99Ms', header: 'p99 ms there' },
    { key: 'extra.pastNotAcked', header: 'not acked there' },
    { key: 'extra.pastRateLimited', header: 'RATE_LIMITED there' },
    { key: 'extra.pastUnavailable', header: 'UNAVAILABLE there' },
    { key: 'extra.pastMissing', header: 'missing there' },
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
    const past = failedAt === null ? undefined : last;
    return {
      ...shown,
      extra: {
        ...shown.extra,
        heldRatePerS: heldRate,
        failedAtRatePerS: failedAt,
        pastP99Ms: past?.latencyMs?.p99 ?? null,
        pastNotAcked: past ? past.failed : null,
        pastRateLimited: past ? (past.errors.RATE_LIMITED ?? 0) : null,
        pastUnavailable: past ? (past.errors.UNAVAILABLE ?? 0) : null,
        pastMissing: past ? past.missing : null,
      },
    };
  },
};
