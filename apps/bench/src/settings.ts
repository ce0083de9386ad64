import type { ScenarioSettings } from './scenarios/scenario';

/**
 * Sizes for a 2-core machine that runs the servers and the clients together: enough load to read CPU per
 * delivery clearly, not so much that the bench's own process is the bottleneck. Flags scale each one up.
 */
export const DEFAULT_SETTINGS: Readonly<ScenarioSettings> = Object.freeze({
  durationMs: 10_000,
  textBytes: 64,
  settleMs: 15_000,
  pauseMs: 500,
  fanout: { clients: 300, ratePerS: 40 },
  smallRooms: { clients: 800, roomSize: 4, ratePerS: 800, placement: 'spread' as const },
  idle: { connections: 5_000, heapSamples: 4 },
  rejoinStorm: { clients: 3_000, roomSize: 4 },
  saturation: { startRatePerS: 800, factor: 1.5, maxSteps: 8, p99LimitMs: 1_000 },
});

/** `--smoke`: everything tiny, for CI (a run takes about 2 s; the figures mean nothing). */
export const SMOKE_SETTINGS: Readonly<ScenarioSettings> = Object.freeze({
  durationMs: 2_000,
  textBytes: 64,
  settleMs: 15_000,
  pauseMs: 150,
  fanout: { clients: 20, ratePerS: 50 },
  smallRooms: { clients: 40, roomSize: 4, ratePerS: 100, placement: 'spread' as const },
  idle: { connections: 100, heapSamples: 2 },
  rejoinStorm: { clients: 100, roomSize: 4 },
  saturation: { startRatePerS: 100, factor: 2, maxSteps: 2, p99LimitMs: 1_000 },
});

/** Unmeasured load per target before the first repetition, so JIT warm-up does not land in rep 1. */
export const WARMUP = { clients: 100, roomSize: 4, ratePerS: 200, durationMs: 2_000 } as const;
