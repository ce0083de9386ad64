import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TARGETS = ['plain', 'chorus-1', 'chorus-3'];
const TRAFFIC = ['fanout', 'small-rooms', 'no-member-gateway'];
const OUT = mkdtempSync(join(tmpdir(), 'chorus-bench-smoke-'));

afterAll(() => rmSync(OUT, { recursive: true, force: true }));

/** Runs `npm run bench -- <args>` the way CI would, and resolves with its exit code and stderr. */
function runBench(args: string[], timeoutMs: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'apps/bench/src/main.ts', ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // SIGTERM lets the bench stop the servers it started; the test then fails with what it printed.
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

type Run = Record<string, unknown> & {
  scenario: string;
  target: string;
  status: string;
  extra?: Record<string, unknown>;
};

describe('bench --smoke', () => {
  it('runs every quick scenario on plain, chorus-1 and chorus-3, loses no delivery, and writes JSON, markdown and SVG', async () => {
    const { code, stderr } = await runBench(
      ['--smoke', '--targets', TARGETS.join(','), '--out', OUT],
      80_000,
    );
    expect(code, stderr).toBe(0);

    const results = JSON.parse(readFileSync(join(OUT, 'results.json'), 'utf8'));
    expect(results).toMatchObject({ schema: 'chorus-bench/1', options: { smoke: true, reps: 1 } });
    expect(results.environment).toHaveProperty('node');
    expect(results.targets.map((t: { id: string; status: string }) => [t.id, t.status])).toEqual(
      TARGETS.map((id) => [id, 'ok']),
    );
    const runs: Run[] = results.runs;
    const runOf = (scenario: string, target: string) => {
      const run = runs.find((r) => r.scenario === scenario && r.target === target);
      if (!run) throw new Error(`no ${scenario} run on ${target}`);
      return run;
    };

    for (const target of TARGETS) {
      for (const scenario of TRAFFIC) {
        const run = runOf(scenario, target);
        if (scenario === 'no-member-gateway' && target !== 'chorus-3') {
          expect(run).toMatchObject({ status: 'skipped', reason: 'needs 3 gateways' });
          continue;
        }
        expect(run.status, `${scenario} on ${target}: ${run.reason}`).toBe('ok');
        for (const field of ['sent', 'acked', 'failed', 'delivered', 'expected', 'missing', 'duplicates']) {
          expect(run[field], `${scenario} on ${target}: ${field}`).toEqual(expect.any(Number));
        }
        // Nothing lost, nothing doubled: every acked message reached every member of its room once.
        expect(run.acked).toBe(run.sent);
        expect(run.expected).toBeGreaterThan(0);
        expect(run.delivered).toBe(run.expected);
        expect(run).toMatchObject({ missing: 0, duplicates: 0, failed: 0 });
        for (const key of ['latencyMs', 'ackLatencyMs']) {
          expect(run[key]).toMatchObject({
            p50: expect.any(Number),
            p99: expect.any(Number),
            max: expect.any(Number),
            count: expect.any(Number),
          });
        }
        expect(run.cpu).toMatchObject({
          totalS: expect.any(Number),
          gatewaysS: expect.any(Number),
          redisS: expect.any(Number),
          driverS: expect.any(Number),
          windowS: expect.any(Number),
        });
        const processes = (run.cpu as { processes: { role: string; cpuS: number }[] }).processes;
        expect(processes.filter((p) => p.role === 'gateway')).toHaveLength(target === 'chorus-3' ? 3 : 1);
        expect(processes.filter((p) => p.role === 'redis')).toHaveLength(target === 'chorus-3' ? 1 : 0);
        expect(run.deliveriesPerCpuS).toEqual(expect.any(Number));
        if (target === 'chorus-3') expect(run.redisCpuPerMessageUs).toEqual(expect.any(Number));
        else expect(run.redisCpuPerMessageUs).toBeNull();
      }

      const idle = runOf('idle', target);
      expect(idle.status, `idle on ${target}: ${idle.reason}`).toBe('ok');
      expect(idle.extra).toMatchObject({
        connections: results.options.settings.idle.connections,
        heapPerConnectionB: expect.any(Number),
        rssPerConnectionB: expect.any(Number),
      });

      const storm = runOf('rejoin-storm', target);
      expect(storm.status, `rejoin-storm on ${target}: ${storm.reason}`).toBe('ok');
      expect(storm.acked).toBe(results.options.settings.rejoinStorm.clients);
      expect(storm.extra).toMatchObject({ joinsPerS: expect.any(Number) });
      expect(storm.latencyMs).toMatchObject({ p99: expect.any(Number) });
    }
    expect(runOf('no-member-gateway', 'chorus-3').extra).toHaveProperty('noMemberRatio');

    expect(results.summary.problems).toEqual([]);
    expect(results.summary.cells.length).toBeGreaterThan(0);
    expect(results.summary.ratios).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'chorus-1 ÷ plain, deliveries per CPU-second' }),
      ]),
    );

    const markdown = readFileSync(join(OUT, 'results.md'), 'utf8');
    for (const heading of ['## fanout', '## small-rooms', '## idle', '## rejoin-storm', '## Ratios']) {
      expect(markdown).toContain(heading);
    }
    expect(existsSync(join(OUT, 'chart.svg'))).toBe(true);
    const svg = readFileSync(join(OUT, 'chart.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('deliveries per CPU-second');
  }, 90_000);
});
