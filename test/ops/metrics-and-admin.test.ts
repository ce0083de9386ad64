import type { AckError, ClusterView } from '@chorus/protocol';
import { describe, expect, it } from 'vitest';
import { REPORT_TTL_MS } from '../../apps/gateway/src/admin/cluster-stats';
import { ensureWebBuilt } from '../support/browser';
import { connectClient, connectPlain, waitForMessages } from '../support/clients';
import { startCluster } from '../support/cluster';
import { useCluster } from '../support/hooks';
import { clusterSum, metricSum, scrapeMetrics } from '../support/metrics';
import { eventually } from '../support/wait';

// Operations endpoints on two real gateways sharing one Redis: what /metrics counts, and the cluster page's API.

const ADMIN_TOKEN = 'ops-test-admin-token-0123456789';
const webRoot = ensureWebBuilt();
// Five sends at once, then one a second: enough for every test but the one that hits the limit on purpose.
const handle = useCluster({
  gateways: 2,
  adminToken: ADMIN_TOKEN,
  webRoot,
  rateLimit: { perSecond: 1, burst: 5 },
});

function getCluster(url: string, authorization?: string): Promise<Response> {
  return fetch(
    `${url}/admin/api/cluster`,
    authorization ? { headers: { Authorization: authorization } } : {},
  );
}

async function clusterView(url: string): Promise<ClusterView> {
  const response = await getCluster(url, `Bearer ${ADMIN_TOKEN}`);
  expect(response.status).toBe(200);
  expect(response.headers.get('cache-control')).toBe('no-store');
  return (await response.json()) as ClusterView;
}

describe('metrics', () => {
  it('counts the messages sent on one gateway, their deliveries on both, and their latencies', async () => {
    const [gw1, gw2] = handle.gateways;
    const urls = [gw1!.url, gw2!.url];
    const alice = await connectClient(gw1!.url, { name: 'alice' });
    const bob = await connectClient(gw2!.url, { name: 'bob' });
    await alice.ok('room:join', { room: 'ops' });
    await bob.ok('room:join', { room: 'ops' });

    const sent = 5;
    for (let i = 1; i <= sent; i++) await alice.ok('message:send', { room: 'ops', text: `m${i}` });
    await waitForMessages(bob, 'ops', sent);
    await waitForMessages(alice, 'ops', sent);

    const [m1, m2] = await Promise.all(urls.map(scrapeMetrics));
    expect(metricSum(m1!, 'chorus_messages_in_total', { node: 'gw-1' })).toBe(sent);
    expect(metricSum(m2!, 'chorus_messages_in_total', { node: 'gw-2' })).toBe(0);
    const sendOk = { event: 'message:send', outcome: 'ok' };
    expect(metricSum(m1!, 'chorus_ack_latency_seconds_count', sendOk)).toBe(sent);
    expect(metricSum(m1!, 'chorus_ack_latency_seconds_bucket', { ...sendOk, le: '+Inf' })).toBe(sent);
    expect(metricSum(m1!, 'chorus_ack_latency_seconds_count', { event: 'room:join', outcome: 'ok' })).toBe(1);
    expect(metricSum(m1!, 'chorus_adapter_publish_seconds_count', { outcome: 'ok' })).toBe(sent);
    // Each gateway delivered every message to its one local member of the room.
    for (const samples of [m1!, m2!]) {
      expect(metricSum(samples, 'chorus_messages_out_total')).toBe(sent);
      expect(metricSum(samples, 'chorus_fanout_latency_seconds_count')).toBe(sent);
      expect(metricSum(samples, 'chorus_connections', { transport: 'socketio' })).toBe(1);
      expect(metricSum(samples, 'chorus_rooms_local')).toBe(1);
      expect(metricSum(samples, 'chorus_room_members_local')).toBe(1);
      expect(metricSum(samples, 'chorus_redis_errors_total', { role: 'commands' })).toBe(0);
    }
  });

  it('moves the connection gauges as clients come and go, plain WebSocket clients included', async () => {
    const [gw1] = handle.gateways;
    const connections = async (transport: string) =>
      metricSum(await scrapeMetrics(gw1!.url), 'chorus_connections', { transport });
    const first = await connectClient(gw1!.url, { name: 'a' });
    const second = await connectClient(gw1!.url, { name: 'b' });
    const plain = await connectPlain(gw1!.url, { room: 'lobby', name: 'carol' });
    expect(await connections('socketio')).toBe(2);
    expect(await connections('plain')).toBe(1);

    first.close();
    plain.close();
    await eventually(async () => {
      expect(await connections('socketio')).toBe(1);
      expect(await connections('plain')).toBe(0);
    });
    second.close();
    await eventually(async () => expect(await connections('socketio')).toBe(0));
  });

  it('counts rate-limited sends and invalid payloads', async () => {
    const [gw1] = handle.gateways;
    const alice = await connectClient(gw1!.url, { name: 'alice' });
    await alice.ok('room:join', { room: 'busy' });
    const codes = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        alice
          .request('message:send', { room: 'busy', text: `flood ${i}` })
          .then((r) => (r.ok ? 'ok' : r.error.code)),
      ),
    );
    const refused = codes.filter((code) => code === 'RATE_LIMITED').length;
    expect(refused).toBeGreaterThanOrEqual(6);

    // biome-ignore lint/suspicious/noExplicitAny: sending what the types forbid is the point
    const raw = alice.socket as any;
    const invalid = (await raw.timeout(5_000).emitWithAck('message:send', { room: 'busy', text: 42 })) as {
      error: AckError;
    };
    expect(invalid.error.code).toBe('INVALID_PAYLOAD');
    await raw.timeout(5_000).emitWithAck('no:such:event', {});

    const samples = await scrapeMetrics(gw1!.url);
    expect(metricSum(samples, 'chorus_rate_limited_total')).toBe(refused);
    expect(metricSum(samples, 'chorus_messages_in_total')).toBe(codes.length - refused);
    expect(
      metricSum(samples, 'chorus_ack_latency_seconds_count', {
        event: 'message:send',
        outcome: 'RATE_LIMITED',
      }),
    ).toBe(refused);
    expect(metricSum(samples, 'chorus_invalid_payloads_total', { transport: 'socketio' })).toBe(2);
    expect(
      metricSum(samples, 'chorus_ack_latency_seconds_count', {
        event: 'unknown',
        outcome: 'INVALID_PAYLOAD',
      }),
    ).toBe(1);
  });

  it('serves the Prometheus text format with every series labelled by node', async () => {
    const [gw1, gw2] = handle.gateways;
    const response = await fetch(`${gw1!.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toContain('# TYPE chorus_ack_latency_seconds histogram');
    const samples = await scrapeMetrics(gw2!.url);
    expect(samples.length).toBeGreaterThan(0);
    expect(samples.every((s) => s.labels.node === 'gw-2')).toBe(true);
    expect(await clusterSum([gw1!.url, gw2!.url], 'chorus_feed_resyncs_total')).toBe(0);
  });
});

describe('the cluster page', () => {
  it('refuses the API without the right bearer token', async () => {
    const [gw1] = handle.gateways;
    for (const authorization of [
      undefined,
      'Bearer wrong-token-of-some-length',
      `Bearer ${ADMIN_TOKEN}x`,
      `Basic ${ADMIN_TOKEN}`,
      ADMIN_TOKEN,
    ]) {
      const response = await getCluster(gw1!.url, authorization);
      expect(response.status, String(authorization)).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(await response.json()).toEqual({ error: 'unauthorized' });
    }
  });

  it('lists every live gateway with its connections, and the busiest rooms, from any gateway', async () => {
    const [gw1, gw2] = handle.gateways;
    const clients = await Promise.all([
      connectClient(gw1!.url, { name: 'alice' }),
      connectClient(gw1!.url, { name: 'bob' }),
      connectClient(gw2!.url, { name: 'carol' }),
    ]);
    for (const client of clients) await client.ok('room:join', { room: 'big' });
    await clients[2]!.ok('room:join', { room: 'small' });

    for (const gateway of [gw1!, gw2!]) {
      await eventually(
        async () => {
          const view = await clusterView(gateway.url);
          expect(view.node).toBe(gateway.nodeId);
          expect(view.nodes.map((n) => [n.node, n.connections, n.rooms, n.draining])).toEqual([
            ['gw-1', 2, 1, false],
            ['gw-2', 1, 2, false],
          ]);
          expect(view.rooms).toEqual([
            { room: 'big', members: 3 },
            { room: 'small', members: 1 },
          ]);
          expect(view.totals).toMatchObject({ nodes: 2, connections: 3 });
        },
        { timeoutMs: 8_000, intervalMs: 200 },
      );
    }
  });

  it('drops a crashed gateway within the report TTL, and a stopped one at once', async () => {
    const [gw1, gw2] = handle.gateways;
    const gw3 = await handle.cluster.addGateway();
    const nodes = async () => (await clusterView(gw1!.url)).nodes.map((n) => n.node);
    await eventually(async () => expect(await nodes()).toEqual(['gw-1', 'gw-2', 'gw-3']), {
      timeoutMs: 5_000,
    });

    await gw3.stop();
    expect(await nodes()).toEqual(['gw-1', 'gw-2']);

    const crashedAt = Date.now();
    await gw2!.crash();
    await eventually(async () => expect(await nodes()).toEqual(['gw-1']), {
      timeoutMs: REPORT_TTL_MS + 3_000,
      intervalMs: 200,
    });
    expect(Date.now() - crashedAt).toBeLessThanOrEqual(REPORT_TTL_MS + 2_500);
  });

  it('serves the page and its script and style under a CSP without inline code', async () => {
    const [gw1] = handle.gateways;
    const page = await fetch(`${gw1!.url}/admin`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await page.text();
    expect(html).toContain('<script type="module" src="admin.js"></script>');
    expect(html).not.toMatch(/<script>|<style>| style="/);

    const script = await fetch(`${gw1!.url}/admin.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(await script.text()).toContain('/admin/api/cluster');
    const style = await fetch(`${gw1!.url}/admin.css`);
    expect(style.status).toBe(200);
    expect(style.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('answers 404 for the page and its API when no admin token is configured', async () => {
    const cluster = await startCluster({ redisUrl: handle.redis.url, gateways: 1, webRoot });
    const url = cluster.gateways[0]!.url;
    for (const path of ['/admin/api/cluster', '/admin']) {
      const response = await fetch(`${url}${path}`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(response.status, path).toBe(404);
    }
  });
});
