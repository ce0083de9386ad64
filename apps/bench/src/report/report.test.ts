import { describe, expect, it } from 'vitest';
import type { BenchResults, RunResult } from '../bench';
import { DEFAULT_SETTINGS } from '../settings';
import type { TargetId } from '../targets/target';
import { renderMarkdown } from './markdown';
import { summarize } from './summary';
import { renderSvg } from './svg';

function run(target: TargetId, rep: number, deliveriesPerCpuS: number, delivered = 100): RunResult {
  return {
    scenario: 'fanout',
    target,
    rep,
    status: 'ok',
    sent: 10,
    acked: 10,
    failed: 0,
    delivered,
    expected: 100,
    missing: 100 - delivered,
    duplicates: 0,
    windowS: 1,
    latencyMs: { count: delivered, p50: 1, p90: 2, p99: 3, max: 4, mean: 1.5 },
    ackLatencyMs: null,
    cpu: null,
    errors: {},
    extra: {},
    deliveriesPerCpuS,
    redisCpuPerMessageUs: null,
  };
}

const target = (id: TargetId, kind: 'baseline' | 'chorus') => ({
  id,
  label: id,
  description: id,
  kind,
  status: 'ok' as const,
  gateways: [],
  processes: [],
});

const results: BenchResults = {
  schema: 'chorus-bench/1',
  startedAt: '2025-01-01T00:00:00.000Z',
  finishedAt: '2025-01-01T00:01:00.000Z',
  command: 'npm run bench',
  environment: {
    node: 'v20',
    platform: 'linux',
    arch: 'x64',
    cpus: 2,
    cpuModel: 'test',
    memoryGiB: 1,
    loadAverage1m: 0,
    openFiles: undefined,
    redisServer: undefined,
    git: undefined,
    cpuReadable: true,
  },
  options: {
    targets: ['plain', 'chorus-1', 'chorus-1-aa'],
    scenarios: ['fanout'],
    urls: [],
    reps: 3,
    settings: DEFAULT_SETTINGS,
    warmup: false,
    smoke: false,
  },
  targets: [target('plain', 'baseline'), target('chorus-1', 'chorus'), target('chorus-1-aa', 'chorus')],
  runs: [
    run('plain', 1, 1000),
    run('chorus-1', 1, 800),
    run('chorus-1-aa', 1, 760),
    run('plain', 2, 1200),
    run('chorus-1', 2, 600),
    run('chorus-1-aa', 2, 820, 99),
    run('plain', 3, 1100),
    run('chorus-1', 3, 700),
    run('chorus-1-aa', 3, 800),
  ],
};

describe('bench report', () => {
  const summary = summarize(results);

  it('compares targets on the medians of their interleaved repetitions', () => {
    const chorus = summary.cells.find((c) => c.target === 'chorus-1')!;
    expect(chorus.figures.deliveriesPerCpuS).toEqual({ median: 700, min: 600, max: 800, n: 3 });
    expect(summary.ratios).toContainEqual(
      expect.objectContaining({ scenario: 'fanout', a: 'chorus-1', b: 'plain', value: 0.636 }),
    );
  });

  it('shows the A/A pair as noise, and flags a run that lost a delivery', () => {
    expect(summary.aa).toContainEqual(
      expect.objectContaining({
        key: 'deliveriesPerCpuS',
        a: 700,
        b: 800,
        diffPct: 14.3,
        rangesOverlap: true,
      }),
    );
    expect(summary.problems).toEqual(['fanout on chorus-1-aa rep 2: 99 of 100 expected deliveries arrived']);
  });

  it('renders a markdown table with medians and ranges, and an SVG bar per target', () => {
    const markdown = renderMarkdown(results, summary);
    expect(markdown).toContain('| chorus-1 | 10 | 10 | 100 / 100 |');
    expect(markdown).toContain('700 [600–800]');
    const svg = renderSvg(results, summary);
    expect(svg.match(/<rect x="150"/g)).toHaveLength(3);
    expect(svg).toContain('</svg>');
  });
});
