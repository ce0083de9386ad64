import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { findTool } from '../../../../scripts/local-cluster/tools';
import { openFileLimit } from './fd-limit';

/** Where a bench ran: what anyone comparing two result files needs to know first. */
export interface Environment {
  node: string;
  platform: string;
  arch: string;
  cpus: number;
  cpuModel: string | undefined;
  memoryGiB: number;
  /** Load average (1 min) when the bench started: a busy machine makes every figure worse. */
  loadAverage1m: number;
  openFiles: { soft: number | null; hard: number | null } | undefined;
  redisServer: string | undefined;
  /** The commit checked out, and whether the work tree had changes. */
  git: { commit: string; dirty: boolean } | undefined;
  /** Whether CPU could be read per process (Linux /proc). */
  cpuReadable: boolean;
}

/** Reads the environment; every probe that fails is left undefined rather than stopping the bench. */
export function readEnvironment(repoRoot: string): Environment {
  const limit = openFileLimit();
  const finite = (n: number) => (Number.isFinite(n) ? n : null);
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    openFiles: limit && { soft: finite(limit.soft), hard: finite(limit.hard) },
    redisServer: quiet(() => {
      const binary = findTool('redis-server');
      return binary ? execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim() : undefined;
    }),
    git: quiet(() => {
      const git = (...args: string[]) =>
        execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim();
      // --no-optional-locks: a status that never writes the index, so the bench leaves git state alone.
      const dirty = git('--no-optional-locks', 'status', '--porcelain').length > 0;
      return { commit: git('rev-parse', 'HEAD'), dirty };
    }),
    cpuReadable: existsSync('/proc/self/stat'),
  };
}

function quiet<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
