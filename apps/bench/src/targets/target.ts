import type { MeasuredProcess } from '../measure/cpu';

/** Every target the bench can start or drive. */
export const TARGET_IDS = [
  'plain',
  'classic',
  'chorus-1',
  'chorus-1-aa',
  'chorus-3',
  'chorus-3-cluster',
  'url',
] as const;
export type TargetId = (typeof TARGET_IDS)[number];

/** One server that clients connect to. */
export interface GatewayHandle {
  /** e.g. `chorus-3/gw-2`. */
  readonly name: string;
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Its process, when the bench started it (no pid for `--url` deployments). */
  readonly pid: number | undefined;
  /**
   * Used V8 heap in bytes, after a full GC where the server allows the bench to trigger one; undefined when
   * the server does not tell.
   */
  heapBytes(): Promise<number | undefined>;
  /** Whether `heapBytes()` collects garbage first; without it the idle figure is only approximate. */
  readonly forcesGc: boolean;
}

/** A target ready to take load. */
export interface RunningTarget {
  readonly id: TargetId;
  readonly label: string;
  readonly gateways: readonly GatewayHandle[];
  /** Every server process whose CPU counts (gateways and Redis); empty when the bench did not start them. */
  readonly processes: readonly MeasuredProcess[];
  /** Stops every process the target started. */
  stop(): Promise<void>;
}

/** How to start one kind of target. */
export interface TargetSpec {
  readonly id: TargetId;
  readonly label: string;
  /** One line for the report. */
  readonly description: string;
  /** `baseline` targets are what Chorus is compared with. */
  readonly kind: 'baseline' | 'chorus' | 'external';
  /** Starts it; throws `TargetSkipped` when it cannot run here, with the reason to report. */
  start(): Promise<RunningTarget>;
}

/** A target that cannot run in this environment (the reason goes in the results instead of a crash). */
export class TargetSkipped extends Error {
  override name = 'TargetSkipped';
}
