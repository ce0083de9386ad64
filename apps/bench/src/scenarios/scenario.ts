import type { CpuReport } from '../measure/cpu';
import type { LatencySummary } from '../measure/hdr';
import type { RunningTarget } from '../targets/target';

/** Every scenario, in the order they run. */
export const SCENARIO_IDS = [
  'fanout',
  'small-rooms',
  'idle',
  'rejoin-storm',
  'no-member-gateway',
  'saturation',
] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];

/**
 * Where a small room's members connect: `spread` puts consecutive clients on consecutive gateways (a room of 4
 * spans every gateway, the worst case for room-scoped fan-out); `room` puts a room's members on one gateway, as
 * the balancer does when clients name their room (HAProxy `balance url_param room`, see deploy/haproxy).
 */
export type Placement = 'spread' | 'room';
export const PLACEMENTS: readonly Placement[] = ['spread', 'room'];

/** Sizes and rates of every scenario (see `settings.ts` for the defaults and the smoke sizes). */
export interface ScenarioSettings {
  /** Measured length of one run of a traffic scenario, in ms. */
  durationMs: number;
  /** Length of each message's text (the seq number, then padding). */
  textBytes: number;
  /** Longest wait after the last send for acks and deliveries to arrive, in ms. */
  settleMs: number;
  /**
   * Quiet time around a run, in ms: after joins (presence traffic) and after disconnecting (the servers' clean-up),
   * so neither lands in the next measured window.
   */
  pauseMs: number;
  fanout: { clients: number; ratePerS: number };
  smallRooms: { clients: number; roomSize: number; ratePerS: number; placement: Placement };
  idle: { connections: number; heapSamples: number };
  rejoinStorm: { clients: number; roomSize: number };
  saturation: { startRatePerS: number; factor: number; maxSteps: number; p99LimitMs: number };
}

/** What a scenario's run gets besides the target. */
export interface RunContext {
  readonly settings: ScenarioSettings;
  /** Unique per run, used in room names so runs never share a room (or its history). */
  readonly tag: string;
  /** Shows a transient progress line on stderr. */
  status(line: string): void;
}

/** What one run of a scenario measured. Counts are 0 and figures null where a scenario has none. */
export interface RunMeasurement {
  /** Measured window (first intended send to the last ack or delivery), seconds. */
  windowS: number;
  sent: number;
  /** Requests answered `{ ok: true }`. */
  acked: number;
  /** Requests answered with an error, or not answered by the end of the settle time. */
  failed: number;
  delivered: number;
  /** Each acked message times the members of its room (the sender included). */
  expected: number;
  /** Acked messages' deliveries that never arrived. */
  missing: number;
  /** Deliveries beyond a room's member count. */
  duplicates: number;
  /** Delivery latency from the intended send time (joins: from the storm's start), ms. */
  latencyMs: LatencySummary | null;
  /** Ack latency from the intended send time, ms. */
  ackLatencyMs: LatencySummary | null;
  cpu: CpuReport | null;
  /** Error codes of refused requests, with counts. */
  errors: Record<string, number>;
  /** Figures only this scenario has, e.g. `heapPerConnectionB`. */
  extra: Record<string, number | null>;
}

/** How the report lays out a scenario's table. */
export type ReportLayout = 'traffic' | 'idle' | 'storm';

/** A figure the report shows for a scenario beyond its layout's columns. */
export interface ExtraColumn {
  key: string;
  header: string;
}

/** One workload. */
export interface Scenario {
  readonly id: ScenarioId;
  /** One line for the report, e.g. "one room of 300 clients, 200 msg/s". */
  describe(settings: ScenarioSettings): string;
  readonly layout: ReportLayout;
  /** The figure charted and compared in the A/A pair (a key of the flattened run, see report/flatten.ts). */
  readonly headline: { key: string; label: string; higherIsBetter: boolean };
  readonly extraColumns: readonly ExtraColumn[];
  /** Why the scenario cannot run on `target`, or undefined. */
  unsupported(target: RunningTarget): string | undefined;
  run(target: RunningTarget, context: RunContext): Promise<RunMeasurement>;
}

/** A run that cannot happen here (e.g. the open-file limit is too low); reported as skipped with the reason. */
export class ScenarioSkipped extends Error {
  override name = 'ScenarioSkipped';
}
