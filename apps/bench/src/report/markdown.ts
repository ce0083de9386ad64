import type { BenchResults } from '../bench';
import { scenario as scenarioOf } from '../scenarios/catalog';
import { cell, formatNumber, formatSpread } from './format';
import type { BenchSummary, CellSummary } from './summary';

type Column = { header: string; value: (c: CellSummary) => string };

const f = (key: string) => (c: CellSummary) => formatSpread(c.figures[key]);

/** "gw-1 1.2 · gw-2 1.1 · redis 0.3": median CPU seconds of each process, by its short name. */
const perProcess = (c: CellSummary) =>
  Object.entries(c.figures)
    .filter(([key]) => key.startsWith('cpu:'))
    .map(([key, s]) => `${key.slice(key.indexOf('/') + 1)} ${formatNumber(s.median)}`)
    .join(' · ') || '–';

const deliveredOfExpected = (c: CellSummary) => `${f('delivered')(c)} / ${f('expected')(c)}`;

const LAYOUTS: Record<'traffic' | 'idle' | 'storm', Column[]> = {
  traffic: [
    { header: 'sent', value: f('sent') },
    { header: 'acked', value: f('acked') },
    { header: 'delivered / expected', value: deliveredOfExpected },
    { header: 'p50 ms', value: f('latencyP50Ms') },
    { header: 'p99 ms', value: f('latencyP99Ms') },
    { header: 'max ms', value: f('latencyMaxMs') },
    { header: 'deliveries per CPU-s', value: f('deliveriesPerCpuS') },
    { header: 'CPU s (servers + Redis)', value: f('cpuTotalS') },
    { header: 'Redis µs/msg', value: f('redisCpuPerMessageUs') },
    { header: 'bench CPU s', value: f('cpuDriverS') },
    { header: 'CPU s per process', value: perProcess },
  ],
  idle: [
    { header: 'connections', value: f('extra.connections') },
    { header: 'heap B/connection', value: f('extra.heapPerConnectionB') },
    {
      header: 'heap read after',
      value: (c) =>
        c.figures['extra.heapAfterForcedGc']?.median === 1 ? 'forced GC' : 'min of samples, no GC',
    },
    { header: 'RSS B/connection', value: f('extra.rssPerConnectionB') },
    { header: 'connects/s', value: f('extra.connectsPerS') },
  ],
  storm: [
    { header: 'joins', value: f('sent') },
    { header: 'acked', value: f('acked') },
    { header: 'joins/s', value: f('extra.joinsPerS') },
    { header: 'p50 ms', value: f('latencyP50Ms') },
    { header: 'p99 ms', value: f('latencyP99Ms') },
    { header: 'max ms', value: f('latencyMaxMs') },
    { header: 'CPU µs/join', value: f('extra.cpuPerJoinUs') },
    { header: 'presence frames/join', value: f('extra.presenceFramesPerJoin') },
    { header: 'CPU s (servers + Redis)', value: f('cpuTotalS') },
    { header: 'CPU s per process', value: perProcess },
  ],
};

function table(headers: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The human report: one table per scenario, then the ratios, the A/A noise and every problem. */
export function renderMarkdown(results: BenchResults, summary: BenchSummary): string {
  const { environment: env, options } = results;
  const out: string[] = [];
  out.push(`# Chorus bench, ${results.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`);
  out.push(
    [
      `\`${results.command}\``,
      `Node ${env.node} on ${env.cpus} × ${env.cpuModel ?? 'CPU'}, ${env.memoryGiB} GiB, load ${env.loadAverage1m} at start`,
      env.git
        ? `git ${env.git.commit.slice(0, 10)}${env.git.dirty ? ' (uncommitted changes)' : ''}`
        : undefined,
      env.redisServer?.split(' ').slice(0, 3).join(' '),
      `${options.reps} interleaved rep(s) × ${options.settings.durationMs / 1000} s${options.warmup ? ', after a warm-up run per target' : ''}${options.smoke ? ', SMOKE sizes (figures meaningless)' : ''}`,
    ]
      .filter(Boolean)
      .join(' · '),
  );
  out.push(
    'Figures are medians over the repetitions, [min–max] when they differ. Sending is open-loop (a fixed schedule; ' +
      'a late sender does not delay it) and latency runs from each message’s *intended* send time to its receipt, ' +
      'recorded in an HDR histogram. CPU is user + system time of every server process (gateways and Redis) read ' +
      'from /proc over the measured window only; “deliveries per CPU-s” divides deliveries by it. “bench CPU” is the ' +
      'load generator’s own: near one core it, not the servers, bounds the latency. The two single-node Chorus ' +
      'targets are an A/A pair: their difference is the noise of this machine.',
  );

  out.push('## Targets');
  out.push(
    table(
      ['target', 'what', 'status', 'processes'],
      results.targets.map((t) => [
        t.label,
        t.description,
        t.status === 'ok' ? 'ok' : `${t.status}: ${t.reason ?? ''}`,
        t.processes.map((p) => `${p.name.slice(p.name.indexOf('/') + 1)} (${p.pid})`).join(', ') || '–',
      ]),
    ),
  );

  for (const scenarioId of options.scenarios) {
    const scenario = scenarioOf(scenarioId);
    const cells = summary.cells.filter((c) => c.scenario === scenarioId);
    out.push(`## ${scenarioId}`);
    out.push(`${scenario.describe(options.settings)}. Headline: ${scenario.headline.label}.`);
    const columns = [
      ...LAYOUTS[scenario.layout],
      ...scenario.extraColumns.map((e) => ({ header: e.header, value: f(e.key) })),
    ];
    const ran = cells.filter((c) => c.okReps > 0);
    if (ran.length > 0) {
      out.push(
        table(
          ['target', ...columns.map((c) => c.header)],
          ran.map((c) => [
            c.label + (c.status === 'partial' ? ' (partial)' : ''),
            ...columns.map((col) => col.value(c)),
          ]),
        ),
      );
    }
    const notRun = cells.filter((c) => c.status !== 'ok');
    if (notRun.length > 0)
      out.push(notRun.map((c) => `- ${c.label}: ${c.status}: ${c.reasons.join('; ')}`).join('\n'));
  }

  if (summary.ratios.length > 0) {
    out.push('## Ratios');
    out.push('On medians.');
    out.push(
      table(
        ['scenario', 'comparison', 'value', 'how to read it'],
        summary.ratios.map((r) => [r.scenario, r.name, formatNumber(r.value), r.meaning]),
      ),
    );
  }

  if (summary.aa.length > 0) {
    out.push('## A/A noise (chorus-1 against an identical chorus-1′)');
    out.push('Differences of this size between other targets mean nothing.');
    out.push(
      table(
        ['scenario', 'figure', 'chorus-1', "chorus-1'", 'difference', 'ranges overlap'],
        summary.aa.map((a) => [
          a.scenario,
          a.label,
          formatNumber(a.a),
          formatNumber(a.b),
          `${a.diffPct > 0 ? '+' : ''}${a.diffPct} %`,
          a.rangesOverlap ? 'yes' : 'no',
        ]),
      ),
    );
  }

  out.push('## Problems');
  out.push(
    summary.problems.length === 0
      ? 'None: every acked message reached every member of its room exactly once.'
      : summary.problems.map((p) => `- ${p}`).join('\n'),
  );
  return `${out.join('\n\n')}\n`;
}
