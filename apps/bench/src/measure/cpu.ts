import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** A server process whose CPU a run charges to its target. */
export interface MeasuredProcess {
  /** e.g. `chorus-3/gw-2` or `classic/redis`. */
  readonly name: string;
  readonly role: 'gateway' | 'redis';
  readonly pid: number;
}

/** CPU seconds (user + system) each process spent inside one measured window. */
export interface CpuReport {
  /** Length of the window in seconds (wall clock). */
  windowS: number;
  /** Every gateway (or relay) process together. */
  gatewaysS: number;
  /** Every Redis process together (all cluster nodes, replicas included). */
  redisS: number;
  /** `gatewaysS + redisS`: what a deployment pays. */
  totalS: number;
  /** The bench process itself (clients), to tell when the load generator was the bottleneck. */
  driverS: number;
  processes: { name: string; role: 'gateway' | 'redis'; pid: number; cpuS: number }[];
}

/** USER_HZ: the unit of the times in /proc/<pid>/stat (100 on nearly every Linux). */
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU seconds `pid` has used so far (utime + stime of all its threads), or undefined where /proc is missing
 * (not Linux) or the process is gone.
 */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
    return (utime + stime) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** An open measurement window; `stop()` closes it. */
export interface CpuWindow {
  /** The CPU used since the window opened, or null when some process could not be read. */
  stop(): CpuReport | null;
}

/**
 * Opens a window over `processes`: reads their CPU now and again at `stop()`, so only the work done in between
 * (the measured part of a run, not start-up or connecting) is counted.
 */
export function openCpuWindow(processes: readonly MeasuredProcess[]): CpuWindow {
  const started = performance.now();
  const driverStart = process.cpuUsage();
  const before = processes.map((p) => processCpuSeconds(p.pid));
  return {
    stop() {
      const after = processes.map((p) => processCpuSeconds(p.pid));
      const driver = process.cpuUsage(driverStart);
      const windowS = (performance.now() - started) / 1000;
      if (processes.length === 0) return null;
      const rows: CpuReport['processes'] = [];
      for (const [i, p] of processes.entries()) {
        const a = before[i];
        const b = after[i];
        if (a === undefined || b === undefined) return null;
        rows.push({ name: p.name, role: p.role, pid: p.pid, cpuS: round(b - a, 3) });
      }
      const sum = (role: 'gateway' | 'redis') =>
        rows.filter((r) => r.role === role).reduce((s, r) => s + r.cpuS, 0);
      const gatewaysS = round(sum('gateway'), 3);
      const redisS = round(sum('redis'), 3);
      return {
        windowS: round(windowS, 3),
        gatewaysS,
        redisS,
        totalS: round(gatewaysS + redisS, 3),
        driverS: round((driver.user + driver.system) / 1e6, 3),
        processes: rows,
      };
    },
  };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
