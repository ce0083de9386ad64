import { afterEach, describe, expect, it } from 'vitest';
import { connectClient, waitForMessages } from '../support/clients';
import { startCluster } from '../support/cluster';
import { useRedis } from '../support/hooks';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { eventually, sleep } from '../support/wait';

// These clients do nothing clever: no SDK, no reconnect, no gap fill. Whatever their gateway missed must
// reach them anyway, in order, because the gateway closes its own gaps.

const redis = useRedis();
const proxies: TcpProxy[] = [];
afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
});

async function clusterWithBreakableGateway() {
  const target = new URL(redis.url);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
  proxies.push(proxy);
  const cluster = await startCluster({
    redisUrl: redis.url,
    gateways: 2,
    // Gateway 2 reaches Redis through the proxy.
    redisUrlFor: (index) => (index === 1 ? proxy.url : undefined),
    watchdog: { intervalMs: 300, timeoutMs: 600 },
    feedProbe: { probeIntervalMs: 100, stallMs: 800 },
    readinessGraceMs: 1_500,
  });
  const [a, b] = cluster.gateways;
  const sender = await connectClient(a!.url, { name: 'sender' });
  const reader = await connectClient(b!.url, { name: 'reader' });
  await sender.ok('room:join', { room: 'r' });
  await reader.ok('room:join', { room: 'r' });
  return { cluster, proxy, sender, reader, a: a!, b: b! };
}

describe('a gateway closes the gaps its own Redis link caused', () => {
  it('delivers, in order, messages its sockets missed while its Redis links were cut', async () => {
    const { proxy, sender, reader } = await clusterWithBreakableGateway();
    await sender.ok('message:send', { room: 'r', text: 'm1' });
    await waitForMessages(reader, 'r', 1);
    proxy.cut();
    for (let i = 2; i <= 6; i++) await sender.ok('message:send', { room: 'r', text: `m${i}` });
    const got = await waitForMessages(reader, 'r', 6, 10_000);
    expect(got.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(reader.socket.connected).toBe(true);
  });

  it('delivers, in order, messages its sockets missed while its Redis links hung without an error', async () => {
    const { proxy, sender, reader, b } = await clusterWithBreakableGateway();
    await sender.ok('message:send', { room: 'r', text: 'm1' });
    await waitForMessages(reader, 'r', 1);
    proxy.stall();
    for (let i = 2; i <= 6; i++) await sender.ok('message:send', { room: 'r', text: `m${i}` });
    const got = await waitForMessages(reader, 'r', 6, 15_000);
    expect(got.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(reader.socket.connected).toBe(true);
    // The gateway is back to normal: its own sends work and reach the other side.
    await eventually(
      async () => {
        const res = await reader.request('message:send', { room: 'r', text: 'from b' });
        expect(res.ok).toBe(true);
      },
      { timeoutMs: 10_000, intervalMs: 300 },
    );
    await waitForMessages(sender, 'r', 7);
    expect(b.deps.mode).toBe('redis');
  });

  it('answers UNAVAILABLE within a few seconds while its Redis is unreachable, and reports not ready', async () => {
    const { proxy, reader, b } = await clusterWithBreakableGateway();
    proxy.down();
    const started = Date.now();
    const res = await reader.request('message:send', { room: 'r', text: 'during the outage' });
    expect(res).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
    expect(Date.now() - started).toBeLessThan(5_000);
    await eventually(async () => expect((await fetch(`${b.url}/readyz`)).status).toBe(503), {
      timeoutMs: 5_000,
    });
    expect(reader.socket.connected).toBe(true);
    proxy.up();
    await eventually(async () => expect((await fetch(`${b.url}/readyz`)).status).toBe(200), {
      timeoutMs: 10_000,
    });
    await eventually(
      async () =>
        expect(await reader.request('message:send', { room: 'r', text: 'back' })).toMatchObject({ ok: true }),
      {
        timeoutMs: 10_000,
        intervalMs: 300,
      },
    );
  });
});

describe('a short stall of the shared Redis', () => {
  it('keeps every gateway ready (in the balancer) while sends wait, and loses nothing', async () => {
    // The product's readiness grace (10 s).
    const cluster = await startCluster({ redisUrl: redis.url, gateways: 3 });
    const clients = await Promise.all(
      cluster.gateways.map((g, i) => connectClient(g.url, { name: `c${i}` })),
    );
    for (const client of clients) await client.ok('room:join', { room: 'r' });
    await clients[0]!.ok('message:send', { room: 'r', text: 'before' });

    // Redis stops answering anyone for 3 s (it holds every command until then), as under a slow command.
    await redis.connect().call('CLIENT', 'PAUSE', '3000', 'ALL');
    const during = clients[1]!.request('message:send', { room: 'r', text: 'during' });
    const notReady: string[] = [];
    const stalledUntil = Date.now() + 3_000;
    while (Date.now() < stalledUntil) {
      for (const g of cluster.gateways) {
        // As a balancer's health check: an answer that takes over a second counts as a failure.
        const status = await fetch(`${g.url}/readyz`, { signal: AbortSignal.timeout(1_000) }).then(
          (res) => res.status,
          () => 'timeout',
        );
        if (status !== 200) notReady.push(`${g.nodeId}: ${status}`);
      }
      await sleep(250);
    }
    expect(notReady).toEqual([]);
    const answer = await during;
    // Held, then answered: stored if the answer is ok, refused (UNAVAILABLE, retry) otherwise; never lost silently.
    if (answer.ok) expect(answer.message.text).toBe('during');
    else expect(answer.error.code).toBe('UNAVAILABLE');
    const { message } = await clients[2]!.ok('message:send', { room: 'r', text: 'after' });
    for (const client of clients)
      expect((await waitForMessages(client, 'r', message.seq)).at(-1)).toEqual(message);
  });
});

describe('a gateway past what Redis takes from it', () => {
  it('pushes back with RATE_LIMITED and retryAfterMs instead of queueing without end, and tears nothing down', async () => {
    const cluster = await startCluster({ redisUrl: redis.url, gateways: 1, maxSendsInFlight: 5 });
    const client = await connectClient(cluster.gateways[0]!.url, { name: 'busy' });
    await client.ok('room:join', { room: 'r' });
    await redis.connect().call('CLIENT', 'PAUSE', '1000', 'WRITE');
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => client.request('message:send', { room: 'r', text: `m${i}` })),
    );
    const refused = answers.filter((a) => !a.ok);
    expect(answers.filter((a) => a.ok)).toHaveLength(5);
    expect(refused).toHaveLength(7);
    for (const answer of refused) {
      expect(answer).toEqual({
        ok: false,
        error: { code: 'RATE_LIMITED', message: 'the server is busy, retry shortly', retryAfterMs: 200 },
      });
    }
    expect(client.socket.connected).toBe(true);
    expect(cluster.gateways[0]!.gateway.draining).toBe(false);
  });
});
