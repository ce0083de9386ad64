import { describe, expect, it } from 'vitest';
import { openCpuWindow, processCpuSeconds } from './cpu';
import { LatencyRecorder } from './hdr';
import { ratio, spread } from './stats';

describe('bench measurements', () => {
  it('takes the median of an odd and an even number of repetitions, with their range', () => {
    expect(spread([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
    expect(spread([4, 1, 2, 3])).toEqual({ median: 2.5, min: 1, max: 4, n: 4 });
    expect(spread([])).toBeUndefined();
    expect(ratio(1, 0)).toBeUndefined();
    expect(ratio(3, 2)).toBe(1.5);
  });

  it('reads percentiles from the HDR histogram within its precision', () => {
    const recorder = new LatencyRecorder();
    for (let ms = 1; ms <= 1000; ms++) recorder.record(ms);
    const summary = recorder.summary()!;
    expect(summary.count).toBe(1000);
    expect(summary.p50).toBeCloseTo(500, -1);
    expect(summary.p99).toBeCloseTo(990, -1);
    expect(summary.max).toBeCloseTo(1000, -1);
    recorder.destroy();
  });

  // The bench reads CPU from /proc: it runs on Linux, like the CI.
  it('charges the CPU a process spends inside the window to it', () => {
    expect(processCpuSeconds(process.pid)).toEqual(expect.any(Number));
    const window = openCpuWindow([{ name: 'self', role: 'gateway', pid: process.pid }]);
    // Spin until this process has used 150 ms of CPU (by its own count), however long a loaded machine takes to
    // give it that: the window must charge about as much, read from /proc.
    const start = process.cpuUsage();
    const deadline = performance.now() + 10_000;
    const used = () => {
      const { user, system } = process.cpuUsage(start);
      return (user + system) / 1e6;
    };
    while (used() < 0.15 && performance.now() < deadline) Math.sqrt(Math.random());
    const report = window.stop()!;
    expect(report.processes[0]!.cpuS).toBeGreaterThan(0.1);
    expect(report.totalS).toBe(report.gatewaysS);
    expect(report.redisS).toBe(0);
  });
});
