import { describe, expect, it } from 'vitest';
import { useCluster } from '../../../test/support/hooks';
import { runLoad, summary } from './load';
import { percentile } from './stats';

const cluster = useCluster({ gateways: 3 });

describe('load tool', () => {
  it('computes nearest-rank percentiles', () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([5, 1, 4, 2, 3], 99)).toBe(5);
    expect(percentile([], 50)).toBeNaN();
  });

  it('drives SDK clients across gateways and counts every acked message delivered once to each member', async () => {
    const report = await runLoad({
      urls: cluster.gateways.map((g) => g.url),
      clients: 12,
      rooms: 3,
      rate: 5,
      durationMs: 1_500,
    });
    expect(report.sent).toBeGreaterThan(50);
    expect(report.acked).toBe(report.sent);
    expect(report.failed).toBe(0);
    // 4 members per room, each sees every message of its room.
    expect(report.delivered).toBe(report.acked * 4);
    expect(report).toMatchObject({ lost: 0, duplicated: 0 });
    // Measured, not made up: every figure is a real latency (the summary itself is checked below).
    for (const figure of [report.ackLatencyMs, report.deliveryLatencyMs]) {
      expect(figure.p50).toBeGreaterThan(0);
      expect(Number.isFinite(figure.max)).toBe(true);
    }
  });
});

describe('the latency summary', () => {
  it('reads p50, p99 and max off the samples, whatever their order', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(summary(samples)).toEqual({ p50: 50, p99: 99, max: 100 });
    expect(summary([7])).toEqual({ p50: 7, p99: 7, max: 7 });
    expect(summary([]).max).toBeNaN();
  });
});
