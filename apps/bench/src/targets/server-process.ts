import { fileURLToPath } from 'node:url';
import { freePort, launch, type ManagedProcess, waitFor } from '../../../../scripts/local-cluster/process';
import { CONFIG_VARIABLES } from '../../../gateway/src/config';

/** The repository root: server entry points are given relative to it, and `--import tsx` resolves from it. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** A Node.js server process the bench started, listening on 127.0.0.1. */
export interface ServerProcess {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  /** The last lines it wrote, for error messages. */
  tail(): string;
  /** SIGTERM, then SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

export interface ServerProcessOptions {
  /** Shown in progress lines and results, e.g. `chorus-3/gw-1`. */
  name: string;
  /** Its `/healthz` must answer `{ node: nodeId }`: proof that this process, not a stranger, took the port. */
  nodeId: string;
  /** Entry point, relative to the repository root. */
  entry: string;
  /** Node.js flags placed before `--import tsx`, e.g. `--expose-gc`. */
  nodeArgs?: string[];
  /** Modules imported after tsx and before the entry point (paths relative to the repository root). */
  preload?: string[];
  /** Environment on top of the bench's own (minus every gateway setting); PORT and HOST are set here. */
  env: Record<string, string>;
  startTimeoutMs?: number;
}

/** Settings that would leak from the bench's shell into the servers it starts (a REDIS_URL above all). */
const SCRUBBED = new Set([...CONFIG_VARIABLES, 'REDIS_CLUSTER_NODES', 'NODE_OPTIONS']);

/**
 * Starts `node [nodeArgs] --import tsx <entry>` (so the process whose CPU is read is the server itself, not a
 * wrapper around it) on a free port, and resolves once its `/healthz` names it. Throws with the process's last
 * lines when it exits or does not answer in time.
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!SCRUBBED.has(key)) env[key] = value;
  Object.assign(env, options.env, { PORT: String(port), HOST: '127.0.0.1' });
  const preload = (options.preload ?? []).flatMap((module) => ['--import', module]);
  const args = [...(options.nodeArgs ?? []), '--import', 'tsx', ...preload, options.entry];
  const proc: ManagedProcess = launch(options.name, process.execPath, args, { cwd: REPO_ROOT, env });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      `${options.name} to answer on ${url}/healthz`,
      async () => {
        if (!proc.running()) throw new Error('it exited');
        const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
        return response.ok && ((await response.json()) as { node?: string }).node === options.nodeId;
      },
      { timeoutMs: options.startTimeoutMs ?? 45_000, intervalMs: 100 },
    );
  } catch (error) {
    await proc.stop('SIGKILL');
    throw new ServerStartError(options.name, (error as Error).message, proc.tail());
  }
  const pid = proc.child.pid;
  if (pid === undefined) throw new ServerStartError(options.name, 'no pid', proc.tail());
  return {
    name: options.name,
    url,
    pid,
    tail: () => proc.tail(),
    async stop(timeoutMs = 15_000) {
      await proc.stop('SIGTERM', timeoutMs);
    },
  };
}

/** A server that did not come up; `output` holds its last lines. */
export class ServerStartError extends Error {
  override name = 'ServerStartError';
  constructor(
    readonly server: string,
    readonly problem: string,
    readonly output: string,
  ) {
    super(`${server} did not start: ${problem}${output ? `\n${output}` : ''}`);
  }

  /** The line that says why, for a one-line report: the gateway's own `chorus: …` line when it wrote one. */
  get reason(): string {
    const lines = this.output
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    const own = lines.filter((l) => l.startsWith('chorus:')).at(-1);
    return own ?? lines.at(-1) ?? this.problem;
  }
}

/** Stops every process in `processes`, in parallel, ignoring ones already gone. */
export async function stopAll(processes: readonly { stop(): Promise<void> }[]): Promise<void> {
  await Promise.allSettled(processes.map((p) => p.stop()));
}
