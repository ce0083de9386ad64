import { type Environment, readEnvironment } from './measure/environment';
import type { Progress } from './progress';
import { scenario as scenarioOf } from './scenarios/catalog';
import type { RunContext, RunMeasurement, ScenarioId, ScenarioSettings } from './scenarios/scenario';
import { ScenarioSkipped } from './scenarios/scenario';
import { runTraffic } from './scenarios/traffic';
import { WARMUP } from './settings';
import { targetSpecs } from './targets/catalog';
import { REPO_ROOT, ServerStartError } from './targets/server-process';
import type { RunningTarget, TargetId, TargetSpec } from './targets/target';
import { TargetSkipped } from './targets/target';
import { randomTag } from './targets/teardown';

/** What to run (from the command line, see cli.ts). */
export interface BenchOptions {
  targets: TargetId[];
  scenarios: ScenarioId[];
  /** Gateways of the `url` target. */
  urls: string[];
  reps: number;
  settings: ScenarioSettings;
  warmup: boolean;
  smoke: boolean;
  /** Where to write the results; default bench/results/<timestamp>/. */
  outDir: string | undefined;
}

/** How a target fared at start-up. */
export interface TargetStatus {
  id: TargetId;
  label: string;
  description: string;
  kind: TargetSpec['kind'];
  status: 'ok' | 'skipped' | 'failed';
  reason?: string;
  gateways: { name: string; url: string; pid: number | null }[];
  /** Every process whose CPU is read, Redis included. */
  processes: { name: string; role: string; pid: number }[];
}

/** One run of one scenario on one target. Skipped and failed runs carry only the identity and the reason. */
export interface RunResult extends Partial<RunMeasurement> {
  scenario: ScenarioId;
  target: TargetId;
  /** 1-based repetition. */
  rep: number;
  status: 'ok' | 'skipped' | 'failed';
  reason?: string;
  /** Deliveries ÷ CPU seconds of every server process (gateways + Redis) in the window. */
  deliveriesPerCpuS?: number | null;
  /** Redis CPU in the window ÷ acked messages, microseconds. */
  redisCpuPerMessageUs?: number | null;
}

/** Everything a bench produced, before summaries (report/ derives those). */
export interface BenchResults {
  schema: 'chorus-bench/1';
  startedAt: string;
  finishedAt: string;
  command: string;
  environment: Environment;
  options: Omit<BenchOptions, 'outDir'>;
  targets: TargetStatus[];
  runs: RunResult[];
}

/**
 * The order of the targets in repetition `rep` (1-based): rotated by one each repetition (A B C, B C A, C A B …),
 * so that no target always runs in the same place. In a fixed order one place was favoured: two identical
 * Chorus targets differed by ≈ 20 % on small-rooms, always in favour of the second, whichever build it ran.
 */
export function runOrder<T>(targets: readonly T[], rep: number): T[] {
  const shift = (rep - 1) % Math.max(1, targets.length);
  return [...targets.slice(shift), ...targets.slice(0, shift)];
}

/**
 * Starts the targets, warms each up, runs every scenario `reps` times interleaved (A B C, B C A … so slow drift
 * of the machine spreads over all targets instead of landing on one, and no target always runs in the same
 * place), and stops everything, also on abort.
 */
export class Bench {
  readonly #options: BenchOptions;
  readonly #progress: Progress;
  readonly #running = new Map<TargetId, RunningTarget>();
  #starting: Promise<RunningTarget> | undefined;
  #aborted = false;
  #runCounter = 0;

  constructor(options: BenchOptions, progress: Progress) {
    this.#options = options;
    this.#progress = progress;
  }

  async run(command: string): Promise<BenchResults> {
    const o = this.#options;
    const startedAt = new Date().toISOString();
    const environment = readEnvironment(REPO_ROOT);
    const targets: TargetStatus[] = [];
    const runs: RunResult[] = [];
    try {
      for (const spec of targetSpecs(o.targets, o.urls)) {
        this.#checkAborted();
        targets.push(await this.#start(spec));
      }
      if (o.warmup) await this.#warmUp();
      const total = o.scenarios.length * o.reps * targets.length;
      for (const scenarioId of o.scenarios) {
        for (let rep = 1; rep <= o.reps; rep++) {
          for (const status of runOrder(targets, rep)) {
            this.#checkAborted();
            runs.push(await this.#runOne(scenarioId, status, rep, `[${runs.length + 1}/${total}]`));
          }
        }
      }
    } finally {
      await this.#stopAll();
    }
    const { outDir: _outDir, ...options } = o;
    return {
      schema: 'chorus-bench/1',
      startedAt,
      finishedAt: new Date().toISOString(),
      command,
      environment,
      options,
      targets,
      runs,
    };
  }

  /** Stops every target now (on SIGINT/SIGTERM); the run in progress fails and nothing more starts. */
  async abort(): Promise<void> {
    this.#aborted = true;
    const starting = this.#starting;
    await this.#stopAll();
    // A target half-way through starting is not in #running yet; its processes must not outlive the bench.
    const late = await starting?.catch(() => undefined);
    await late?.stop();
  }

  async #start(spec: TargetSpec): Promise<TargetStatus> {
    const base = { id: spec.id, label: spec.label, description: spec.description, kind: spec.kind };
    this.#progress.phase(`starting ${spec.label}`);
    try {
      this.#starting = spec.start();
      const target = await this.#starting;
      if (this.#aborted) {
        await target.stop();
        throw new Error('aborted');
      }
      this.#running.set(spec.id, target);
      this.#progress.line(
        `${spec.label}: ${target.gateways.length} gateway(s) at ${target.gateways.map((g) => g.url).join(' ')}`,
      );
      return {
        ...base,
        status: 'ok',
        gateways: target.gateways.map((g) => ({ name: g.name, url: g.url, pid: g.pid ?? null })),
        processes: target.processes.map((p) => ({ name: p.name, role: p.role, pid: p.pid })),
      };
    } catch (error) {
      const skipped = error instanceof TargetSkipped;
      const reason =
        error instanceof ServerStartError
          ? `${error.server}: ${error.problem}: ${error.reason}`
          : oneLine((error as Error).message);
      this.#progress.line(`${spec.label} ${skipped ? 'skipped' : 'failed to start'}: ${reason}`);
      return { ...base, status: skipped ? 'skipped' : 'failed', reason, gateways: [], processes: [] };
    }
  }

  /** An unmeasured small-rooms run per target: JIT compilation and first allocations stay out of rep 1. */
  async #warmUp(): Promise<void> {
    for (const target of this.#running.values()) {
      this.#checkAborted();
      this.#progress.phase(`warm-up · ${target.label}`);
      await runTraffic(target, WARMUP, this.#context()).catch((error: Error) => {
        this.#progress.line(`warm-up of ${target.label} failed: ${oneLine(error.message)}`);
      });
    }
  }

  async #runOne(
    scenarioId: ScenarioId,
    status: TargetStatus,
    rep: number,
    counter: string,
  ): Promise<RunResult> {
    const identity = { scenario: scenarioId, target: status.id, rep };
    const target = this.#running.get(status.id);
    if (!target)
      return { ...identity, status: 'skipped', reason: `target ${status.status}: ${status.reason}` };
    const scenario = scenarioOf(scenarioId);
    const unsupported = scenario.unsupported(target);
    if (unsupported) return { ...identity, status: 'skipped', reason: unsupported };

    this.#progress.phase(`${counter} ${scenarioId} · ${target.label} · rep ${rep}/${this.#options.reps}`);
    try {
      const m = await scenario.run(target, this.#context());
      const result: RunResult = { ...identity, status: 'ok', ...m, ...derived(m, target) };
      this.#progress.line(`${counter} ${scenarioId} · ${target.label} · rep ${rep}: ${describeRun(result)}`);
      return result;
    } catch (error) {
      const reason = oneLine((error as Error).message);
      const skipped = error instanceof ScenarioSkipped;
      this.#progress.line(
        `${counter} ${scenarioId} · ${target.label} · rep ${rep} ${skipped ? 'skipped' : 'FAILED'}: ${reason}`,
      );
      return { ...identity, status: skipped ? 'skipped' : 'failed', reason };
    }
  }

  #context(): RunContext {
    this.#runCounter += 1;
    return {
      settings: this.#options.settings,
      tag: `b${this.#runCounter}${randomTag()}`,
      status: (line) => this.#progress.status(line),
    };
  }

  #checkAborted(): void {
    if (this.#aborted) throw new Error('bench aborted');
  }

  async #stopAll(): Promise<void> {
    const running = [...this.#running.values()];
    this.#running.clear();
    if (running.length > 0) this.#progress.phase(`stopping ${running.length} target(s)`);
    await Promise.allSettled(running.map((t) => t.stop()));
    this.#progress.done();
  }
}

/** Figures that need the target: per CPU-second of its servers, Redis per message. */
function derived(
  m: RunMeasurement,
  target: RunningTarget,
): Pick<RunResult, 'deliveriesPerCpuS' | 'redisCpuPerMessageUs'> {
  const cpu = m.cpu;
  const hasRedis = target.processes.some((p) => p.role === 'redis');
  return {
    deliveriesPerCpuS: cpu && cpu.totalS > 0 && m.delivered > 0 ? Math.round(m.delivered / cpu.totalS) : null,
    redisCpuPerMessageUs:
      cpu && hasRedis && m.acked > 0 && m.delivered > 0 ? Math.round((cpu.redisS * 1e6) / m.acked) : null,
  };
}

/** Figures too minor for the progress line (they are in the report). */
const QUIET_EXTRAS = new Set(['maxSendLagMs', 'connections', 'heapAfterForcedGc']);

/** The progress line after a run. */
function describeRun(r: RunResult): string {
  const parts: string[] = [];
  if (r.expected) parts.push(`delivered ${r.delivered}/${r.expected}`);
  else if (r.sent) parts.push(`acked ${r.acked}/${r.sent}`);
  if (r.latencyMs) parts.push(`p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms`);
  if (r.deliveriesPerCpuS) parts.push(`${r.deliveriesPerCpuS} deliveries/CPU-s`);
  if (r.cpu) parts.push(`CPU ${r.cpu.totalS} s (driver ${r.cpu.driverS} s)`);
  for (const [key, value] of Object.entries(r.extra ?? {})) {
    if (value !== null && !QUIET_EXTRAS.has(key)) parts.push(`${key} ${value}`);
  }
  return parts.join(', ');
}

function oneLine(text: string): string {
  return text.split('\n')[0]!.trim();
}
