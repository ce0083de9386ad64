import { afterEach, describe, expect, it } from 'vitest';
import { connectClient, waitForMessages } from '../support/clients';
import { startCluster } from '../support/cluster';
import { useRedis } from '../support/hooks';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { eventually } from '../support/wait';

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
