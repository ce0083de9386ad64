import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Receives every line a process writes, with the name of the process that wrote it. */
export type LineSink = (source: string, line: string, stream: 'stdout' | 'stderr') => void;

/** A child process of the local cluster, in its own process group. */
export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  running(): boolean;
  /** The last lines it wrote (both streams), for error messages. */
  tail(): string;
  /**
   * Sends `signal` and waits for the exit; after `timeoutMs` the whole process group is killed. Kills the
   * group after a clean exit too, so nothing it started outlives it.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
}

const TAIL_LINES = 40;

/**
 * Starts `command` detached into its own process group: a Ctrl-C at the terminal reaches only the cluster
 * script, which then stops its children in order.
 */
export function launch(
  name: string,
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; onLine?: LineSink } = {},
): ManagedProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const lines: string[] = [];
  const collect = (stream: 'stdout' | 'stderr') => {
    let partial = '';
    child[stream]?.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        if (!line) continue;
        lines.push(line);
        if (lines.length > TAIL_LINES) lines.shift();
        options.onLine?.(name, line, stream);
      }
    });
  };
  collect('stdout');
  collect('stderr');
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => {
      lines.push(String(error));
      resolve({ code: -1, signal: null });
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  const killGroup = () => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // The group is gone already.
    }
  };
  return {
    name,
    child,
    exited,
    running,
    tail: () => lines.join('\n'),
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (running()) child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), timeoutMs);
      });
      const result = await Promise.race([exited, late]);
      clearTimeout(timer);
      killGroup();
      return result === 'late' ? exited : result;
    },
  };
}

/**
 * The lowest port the kernel hands out to outgoing connections (Linux' `ip_local_port_range`; 32768 where that
 * cannot be read).
 */
export function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 12_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, from `from` up to (not including) the kernel's ephemeral
 * range. Servers that are killed and started again on their port (gateways, Redis) need one from outside that
 * range: while they are down, any outgoing connection on the machine may be given their port as its own, and
 * the restart would then fail with EADDRINUSE.
 */
export async function freePort({
  from = 10_000,
  span,
}: {
  from?: number;
  span?: number;
} = {}): Promise<number> {
  const to = span === undefined ? ephemeralLow() : from + span;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = from + Math.floor(Math.random() * (to - from));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in ${from}–${to - 1}`);
}

/** Whether a server could listen on `port` of 127.0.0.1 just now. */
export function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Retries `condition` until it returns true, or throws `what` (with the last error) after `timeoutMs`. */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  { timeoutMs = 15_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await condition()) return;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const reason = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
