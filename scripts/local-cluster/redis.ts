import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type LineSink, launch, type ManagedProcess, waitFor } from './process';

/** The Redis of a local cluster: one it started, or the one `REDIS_URL` names. */
export interface LocalRedis {
  readonly url: string;
  /** False for a `REDIS_URL` server, which the cluster never stops, kills or flushes. */
  readonly owned: boolean;
  /** SIGKILL: an outage. Data survives: every write is in the append-only file before it is acknowledged. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data folder, and waits until it answers. */
  start(): Promise<void>;
  /** Stops it and deletes its data folder. */
  stop(): Promise<void>;
}

/** A Redis named by URL and left alone. */
export function externalRedis(url: string): LocalRedis {
  const refuse = async () => {
    throw new Error(`the cluster does not control the Redis at ${url} (REDIS_URL)`);
  };
  return { url, owned: false, kill: refuse, start: refuse, stop: async () => {} };
}

/**
 * Starts `redis-server` on a free port of 127.0.0.1 with append-only persistence (fsync on every write) in a
 * temporary folder, so a kill and restart loses no acknowledged message.
 */
export async function startLocalRedis(binary: string, onLine?: LineSink): Promise<LocalRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'chorus-cluster-redis-'));
  let proc: ManagedProcess | undefined;

  const start = async () => {
    if (proc?.running()) return;
    const args = [
      ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
      ...['--save', '', '--appendonly', 'yes', '--appendfsync', 'always'],
      ...['--daemonize', 'no', '--loglevel', 'warning'],
    ];
    const started = launch('redis', binary, args, { onLine });
    proc = started;
    await waitFor(`redis-server on port ${port}`, async () => {
      if (!started.running()) throw new Error(`redis-server exited:\n${started.tail()}`);
      return ping(port);
    });
  };

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    owned: true,
    start,
    kill: async () => {
      await proc?.stop('SIGKILL');
    },
    stop: async () => {
      await proc?.stop('SIGTERM', 5_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** True when Redis on `port` answers PING (not while it is still loading its data). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
