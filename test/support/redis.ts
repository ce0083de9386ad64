import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './ports';
import { eventually } from './wait';

/** A Redis the tests may use, and how it was obtained. */
export interface TestRedis {
  url: string;
  kind: 'REDIS_URL' | 'testcontainers' | 'redis-server';
  /** Stops the server (no-op for an external REDIS_URL, which the harness must never stop or flush). */
  stop(): Promise<void>;
  /** Kills and restarts the server on the same port; only for servers the harness started. */
  restart?(options?: { downMs?: number }): Promise<void>;
  /** Kills the server without restarting it; only for servers the harness started. */
  kill?(): Promise<void>;
}

export interface RedisServerOptions {
  /** Keep data across restarts with an append-only file. */
  appendOnly?: boolean;
}

/**
 * Gives the tests a real Redis: `REDIS_URL` when set, else a container when a Docker engine is reachable,
 * else a `redis-server` process on a free port. Fails with a clear message when none is possible.
 */
export async function startTestRedis(options: RedisServerOptions = {}): Promise<TestRedis> {
  const external = process.env.REDIS_URL;
  if (external) return { url: external, kind: 'REDIS_URL', stop: async () => {} };
  if (dockerReachable()) return startContainer();
  return startRedisServer(options);
}

/** A unique key prefix per test, so tests sharing one Redis never see each other's keys. */
export function uniquePrefix(label = 't'): string {
  return `chorus-test:${label}:${randomBytes(4).toString('hex')}:`;
}

function dockerReachable(): boolean {
  if (process.env.CHORUS_TEST_NO_DOCKER) return false;
  const host = process.env.DOCKER_HOST;
  if (!host && !existsSync('/var/run/docker.sock')) return false;
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

async function startContainer(): Promise<TestRedis> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer('redis:7-alpine')
    .withExposedPorts(6379)
    .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
    .start();
  return {
    url: `redis://${container.getHost()}:${container.getMappedPort(6379)}`,
    kind: 'testcontainers',
    stop: async () => {
      await container.stop();
    },
  };
}

function findRedisServer(): string {
  for (const candidate of ['/usr/bin/redis-server', '/usr/local/bin/redis-server']) {
    if (existsSync(candidate)) return candidate;
  }
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'The integration tests need Redis: set REDIS_URL, run a Docker engine, or install redis-server ' +
        '(Debian/Ubuntu: apt-get install redis-server).',
    );
  }
}

/** Starts a private `redis-server` on a free port; it can be killed and restarted on that port. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<TestRedis> {
  const binary = findRedisServer();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'chorus-redis-'));
  let child: ChildProcess | undefined;

  const launch = async () => {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      options.appendOnly ? 'yes' : 'no',
      '--appendfsync',
      'always',
      '--dir',
      dir,
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
    ];
    const proc = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let stderr = '';
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await eventually(
      async () => {
        if (proc.exitCode !== null) throw new Error(`redis-server exited (${proc.exitCode}): ${stderr}`);
        const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
        probe.on('error', () => {});
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG';
        } finally {
          probe.disconnect();
        }
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
  };

  const kill = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGKILL');
    await exited;
  };

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    kind: 'redis-server',
    kill,
    restart: async ({ downMs = 0 } = {}) => {
      await kill();
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      await launch();
    },
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
