import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports';
import { type GatewayProcess, killAllGateways, spawnGateway } from '../support/process';
import { startTestRedis, type TestRedis, uniquePrefix } from '../support/redis';

const STACK_LINE = /^\s+at /m;

let redis: TestRedis | undefined;

afterEach(async () => {
  await killAllGateways();
});
afterAll(async () => {
  await redis?.stop();
});

/** The port from the `chorus listening` JSON log line. */
async function listeningPort(gateway: GatewayProcess): Promise<number> {
  const line = await gateway.waitForLog((l) => String(l.msg).startsWith('chorus listening'));
  expect(line.port).toEqual(expect.any(Number));
  return line.port as number;
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function expectNoStackTrace(gateway: GatewayProcess): void {
  expect(gateway.stderr()).not.toMatch(STACK_LINE);
  expect(gateway.stdout()).not.toMatch(STACK_LINE);
}

describe('start-up', () => {
  it('exits 1 with one line naming the address, not the password, when Redis refuses connections', async () => {
    const port = await freePort();
    const gateway = spawnGateway({
      REDIS_URL: `redis://:s3cret-pw@127.0.0.1:${port}`,
      PORT: '0',
      LOG_FORMAT: 'json',
    });

    const { code } = await gateway.exit(15_000);

    expect(code).toBe(1);
    const stderr = gateway.stderr();
    expect(stderr).toContain(`chorus: cannot connect to Redis at 127.0.0.1:${port} (ECONNREFUSED)`);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expectNoStackTrace(gateway);
    expect(gateway.stderr() + gateway.stdout()).not.toContain('s3cret-pw');
  });

  it.each(['abc', '70000'])('exits 1 with a one-line message naming PORT when PORT is %s', async (value) => {
    const gateway = spawnGateway({ PORT: value, LOG_FORMAT: 'json' });

    const { code } = await gateway.exit(15_000);

    expect(code).toBe(1);
    const lines = gateway.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^chorus: invalid PORT: /);
    expect(lines[0]).toContain(value);
    expectNoStackTrace(gateway);
  });

  it('starts in the embedded mode without REDIS_URL, serves health checks and exits 0 on SIGTERM', async () => {
    const gateway = spawnGateway({
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_FORMAT: 'json',
      NODE_ID: 'startup-mem',
    });
    const port = await listeningPort(gateway);

    expect(gateway.logs().every((line) => line.node === 'startup-mem')).toBe(true);
    expect(await getJson(`http://127.0.0.1:${port}/healthz`)).toEqual({
      status: 200,
      body: { status: 'ok', node: 'startup-mem' },
    });
    expect(await getJson(`http://127.0.0.1:${port}/readyz`)).toEqual({
      status: 200,
      body: { status: 'ready', node: 'startup-mem', mode: 'memory' },
    });

    gateway.signal('SIGTERM');
    expect(await gateway.exit(5_000)).toEqual({ code: 0, signal: null });
    expectNoStackTrace(gateway);
  });

  it('starts in the cluster mode with a reachable REDIS_URL and reports ready with mode redis', async () => {
    redis ??= await startTestRedis();
    const gateway = spawnGateway({
      REDIS_URL: redis.url,
      REDIS_PREFIX: uniquePrefix('startup'),
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_FORMAT: 'json',
      NODE_ID: 'startup-redis',
    });
    const port = await listeningPort(gateway);

    expect(await getJson(`http://127.0.0.1:${port}/readyz`)).toEqual({
      status: 200,
      body: { status: 'ready', node: 'startup-redis', mode: 'redis' },
    });

    gateway.signal('SIGTERM');
    expect(await gateway.exit(5_000)).toEqual({ code: 0, signal: null });
  });
});
