import { describe, expect, it } from 'vitest';
import { useCluster } from '../../../test/support/hooks';
import { runLoad } from './load';
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
    expect(report.ackLatencyMs.p99).toBeGreaterThan(0);
    expect(report.ackLatencyMs.max).toBeGreaterThanOrEqual(report.ackLatencyMs.p99);
    expect(report.deliveryLatencyMs.max).toBeGreaterThanOrEqual(report.deliveryLatencyMs.p50);
  });
});
