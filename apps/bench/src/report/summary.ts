import type { BenchResults, RunResult } from '../bench';
import { ratio, type Spread, spread } from '../measure/stats';
import { scenario as scenarioOf } from '../scenarios/catalog';
import type { ScenarioId } from '../scenarios/scenario';
import type { TargetId } from '../targets/target';
import { flatten } from './flatten';
import { RATIOS } from './ratios';

/** One scenario on one target over its repetitions. */
export interface CellSummary {
  scenario: ScenarioId;
  target: TargetId;
  label: string;
  /** `partial`: some repetitions ran, others failed or were skipped. */
  status: 'ok' | 'partial' | 'skipped' | 'failed';
  /** Distinct reasons of skipped or failed repetitions. */
  reasons: string[];
  okReps: number;
  /** Median and min–max of every figure over the repetitions that ran. */
  figures: Record<string, Spread>;
}

/** One comparison between two targets, on medians. */
export interface RatioSummary {
  scenario: ScenarioId;
  name: string;
  /** The figure compared (a flattened key). */
  key: string;
  a: TargetId;
  b: TargetId;
  value: number;
  /** How to read it, e.g. "> 1: Chorus does more work per CPU-second". */
  meaning: string;
}

/** The A/A pair: the same target started twice; their difference is what noise looks like. */
export interface AaSummary {
  scenario: ScenarioId;
  key: string;
  label: string;
  a: number;
  b: number;
  /** (b − a) ÷ a, percent. */
  diffPct: number;
  /** Whether the two min–max ranges overlap. */
  rangesOverlap: boolean;
}

export interface BenchSummary {
  cells: CellSummary[];
  ratios: RatioSummary[];
  aa: AaSummary[];
  /**
   * Targets that failed to start (skipped ones are not problems) and runs that failed or lost, duplicated or
   * had refused deliveries (saturation excluded: it overloads on purpose).
   */
  problems: string[];
}

/** Summarizes every scenario × target, the ratios between targets and the A/A pair. */
export function summarize(results: BenchResults): BenchSummary {
  const label = (id: TargetId) => results.targets.find((t) => t.id === id)?.label ?? id;
  const cells: CellSummary[] = [];
  for (const scenario of results.options.scenarios) {
    for (const target of results.targets) {
      const runs = results.runs.filter((r) => r.scenario === scenario && r.target === target.id);
      if (runs.length > 0) cells.push(summarizeCell(scenario, target.id, label(target.id), runs));
    }
  }
  const median = (scenario: ScenarioId, target: TargetId, key: string) =>
    cells.find((c) => c.scenario === scenario && c.target === target)?.figures[key]?.median;

  const ratios: RatioSummary[] = [];
  for (const spec of RATIOS) {
    for (const scenario of spec.scenarios) {
      const a = median(scenario, spec.a, spec.key);
      const b = median(scenario, spec.b, spec.key);
      const value = spec.invert ? ratio(b, a) : ratio(a, b);
      if (value === undefined) continue;
      const { scenarios: _s, invert: _i, ...rest } = spec;
      ratios.push({ scenario, ...rest, value: Math.round(value * 1000) / 1000 });
    }
  }

  const aa: AaSummary[] = [];
  for (const scenario of results.options.scenarios) {
    const headline = scenarioOf(scenario).headline;
    for (const { key, label: what } of [headline, { key: 'latencyP99Ms', label: 'p99 latency, ms' }]) {
      const a = cells.find((c) => c.scenario === scenario && c.target === 'chorus-1')?.figures[key];
      const b = cells.find((c) => c.scenario === scenario && c.target === 'chorus-1-aa')?.figures[key];
      if (!a || !b || a.median === 0) continue;
      aa.push({
        scenario,
        key,
        label: what,
        a: a.median,
        b: b.median,
        diffPct: Math.round(((b.median - a.median) / a.median) * 1000) / 10,
        rangesOverlap: a.min <= b.max && b.min <= a.max,
      });
    }
  }

  const problems: string[] = [];
  for (const t of results.targets)
    if (t.status === 'failed') problems.push(`${t.label} failed to start: ${t.reason}`);
  for (const r of results.runs) {
    const where = `${r.scenario} on ${label(r.target)} rep ${r.rep}`;
    if (r.status === 'failed') problems.push(`${where} failed: ${r.reason}`);
    if (r.status !== 'ok' || r.scenario === 'saturation') continue;
    if ((r.missing ?? 0) > 0 || (r.delivered ?? 0) < (r.expected ?? 0)) {
      problems.push(`${where}: ${r.delivered} of ${r.expected} expected deliveries arrived`);
    }
    if ((r.duplicates ?? 0) > 0) problems.push(`${where}: ${r.duplicates} duplicate deliveries`);
    if ((r.failed ?? 0) > 0) {
      const errors = Object.entries(r.errors ?? {});
      const unanswered = (r.failed ?? 0) - errors.reduce((n, [, count]) => n + count, 0);
      const codes = errors.map(([code, n]) => `${code} ×${n}`);
      if (unanswered > 0) codes.push(`no answer ×${unanswered}`);
      problems.push(`${where}: ${r.failed} of ${r.sent} requests not acked ok (${codes.join(', ')})`);
    }
  }
  return { cells, ratios, aa, problems };
}

function summarizeCell(
  scenario: ScenarioId,
  target: TargetId,
  label: string,
  runs: RunResult[],
): CellSummary {
  const ok = runs.filter((r) => r.status === 'ok');
  const reasons = [...new Set(runs.filter((r) => r.status !== 'ok').map((r) => r.reason ?? r.status))];
  const flat = ok.map(flatten);
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))];
  const figures: Record<string, Spread> = {};
  for (const key of keys) {
    const s = spread(flat.map((f) => f[key]).filter((v): v is number => v !== undefined));
    if (s) figures[key] = s;
  }
  const status =
    ok.length === runs.length
      ? 'ok'
      : ok.length > 0
        ? 'partial'
        : runs.every((r) => r.status === 'skipped')
          ? 'skipped'
          : 'failed';
  return { scenario, target, label, status, reasons, okReps: ok.length, figures };
}
