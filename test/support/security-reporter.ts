import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';
import type { SecurityFigures } from './security-watch';

/**
 * Prints, at the end of a run, what the security suite tried and what it cost: per test, the requests refused,
 * the bystander's acks (count, p99, slowest) and the peak RSS of the process holding the gateways. The figures
 * come from `useSecurityWatch` through each test's meta; nothing is printed when no watched test ran.
 */
export default class SecurityReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const rows: string[][] = [];
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const figures: SecurityFigures | undefined = test.meta().security;
        if (!figures) continue;
        rows.push([
          `${relative(process.cwd(), module.moduleId).replace(/^test\/security\//, '')} › ${test.name}`,
          test.result().state === 'passed' ? 'ok' : test.result().state,
          String(figures.refused),
          String(figures.bystanderAcks),
          String(figures.bystanderP99Ms),
          String(figures.bystanderMaxMs),
          String(figures.peakRssMiB),
        ]);
      }
    }
    if (rows.length === 0) return;
    const header = [
      'security test (what was tried)',
      'result',
      'refused',
      'bystander acks',
      'p99 ms',
      'max ms',
      'peak RSS MiB',
    ];
    const widths = header.map((h, i) =>
      Math.min(i === 0 ? 110 : 14, Math.max(h.length, ...rows.map((r) => r[i]!.length))),
    );
    const line = (cells: string[]) =>
      `| ${cells.map((c, i) => (i === 0 ? c.slice(0, widths[i]).padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
    const out = [
      '',
      'Security suite: every bad input against the gateways, a bystander on another gateway answered throughout',
      line(header),
      `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
      ...rows.map(line),
      `totals: ${rows.length} tests, ${rows.reduce((n, r) => n + Number(r[2]), 0)} requests refused, worst bystander p99 ${Math.max(...rows.map((r) => Number(r[4])))} ms, peak RSS ${Math.max(...rows.map((r) => Number(r[6])))} MiB`,
      '',
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  }
}
