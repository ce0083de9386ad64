import { build, type Histogram } from 'hdr-histogram-js';

/** Percentiles of one latency distribution, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * Latencies in an HDR histogram (microsecond resolution, 3 significant digits): constant memory and cost per
 * sample whatever the count, and percentiles with a bounded relative error instead of a sorted array.
 */
export class LatencyRecorder {
  readonly #histogram: Histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });

  /** Records one latency of `ms` milliseconds (negative values, from clock rounding, count as 0). */
  record(ms: number): void {
    this.#histogram.recordValue(ms > 0 ? Math.round(ms * 1000) : 0);
  }

  get count(): number {
    return this.#histogram.totalCount;
  }

  /** The distribution so far, or null when nothing was recorded. */
  summary(): LatencySummary | null {
    const h = this.#histogram;
    if (h.totalCount === 0) return null;
    const ms = (us: number) => Math.round(us) / 1000;
    return {
      count: h.totalCount,
      p50: ms(h.getValueAtPercentile(50)),
      p90: ms(h.getValueAtPercentile(90)),
      p99: ms(h.getValueAtPercentile(99)),
      max: ms(h.maxValue),
      mean: ms(h.mean),
    };
  }

  /** Frees the histogram's buffers (the WebAssembly variant needs it; harmless for the JS one). */
  destroy(): void {
    this.#histogram.destroy();
  }
}
