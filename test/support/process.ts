import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CONFIG_VARIABLES } from '../../apps/gateway/src/config';
import { withTimeout } from './wait';

/** The repository root, found from this file so the tests run from any clone folder. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
const MAIN = 'apps/gateway/src/main.ts';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A gateway started through its real entry point (`tsx apps/gateway/src/main.ts`). */
export interface GatewayProcess {
  child: ChildProcess;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** stdout parsed as JSON log lines; lines that are not JSON are skipped. */
  logs(): Record<string, unknown>[];
  /** Resolves when the process exits; rejects after `timeoutMs`. */
  exit(timeoutMs?: number): Promise<Exit>;
  /** Resolves with the first JSON log line matching `predicate`; rejects when the process exits first. */
  waitForLog(
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Sends `signal` to the entry point (tsx relays it to the node process it runs). */
  signal(signal: NodeJS.Signals): void;
}

const running = new Set<GatewayProcess>();

/** Starts the gateway entry point with only `env` as its configuration. */
export function spawnGateway(env: Record<string, string>): GatewayProcess {
  const base = { ...process.env };
  // The test's own environment must not leak into the gateway under test.
  for (const name of CONFIG_VARIABLES) delete base[name];
  const child = spawn(TSX, [MAIN], {
    cwd: REPO_ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a kill reaches the node process tsx starts as well as tsx itself.
    detached: true,
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const logs = () =>
    out.split('\n').flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });

  const proc: GatewayProcess = {
    child,
    stdout: () => out,
    stderr: () => err,
    logs,
    exit: (timeoutMs = 15_000) => withTimeout(exited, timeoutMs, `gateway process exit\n${err}`),
    waitForLog: (predicate, timeoutMs = 15_000) =>
      withTimeout(
        new Promise((resolve, reject) => {
          const check = () => {
            const found = logs().find(predicate);
            if (found) {
              child.stdout?.off('data', check);
              resolve(found);
            }
          };
          child.stdout?.on('data', check);
          check();
          void exited.then(({ code, signal }) =>
            reject(new Error(`gateway exited (${code ?? signal}) before the log line:\n${out}\n${err}`)),
          );
        }),
        timeoutMs,
        `gateway log line\n${out}\n${err}`,
      ),
    signal: (signal) => {
      child.kill(signal);
    },
  };
  running.add(proc);
  return proc;
}

/**
 * Kills every gateway process the tests started, and any process left in its group, and waits for them to go;
 * call from afterEach.
 */
export async function killAllGateways(): Promise<void> {
  const procs = [...running];
  running.clear();
  await Promise.all(
    procs.map(async (proc) => {
      const { pid } = proc.child;
      if (pid !== undefined) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      await proc.exit(5_000).catch(() => {});
    }),
  );
}
