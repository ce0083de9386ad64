import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { expectClusterServes } from '../support/bystanders';
import { startCluster } from '../support/cluster';
import { useRedis } from '../support/hooks';
import { useSecurityWatch } from '../support/security-watch';

const redis = useRedis();
useSecurityWatch();
const webRoot = fileURLToPath(new URL('../../apps/web/dist', import.meta.url));

/** A raw HTTP request with the headers a browser on another site (or a rebinding page) would send. */
function get(
  url: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The HTTP status a WebSocket upgrade to `path` gets (101 when it opens). */
function upgrade(url: string, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}${path}`, { headers });
    ws.once('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(0));
  });
}

const HANDSHAKE = '/socket.io/?EIO=4&transport=polling';
const WS_HANDSHAKE = '/socket.io/?EIO=4&transport=websocket';

describe('hosts, origins, framing and the admin page', () => {
  it('refuses a DNS-rebinding page (Host and Origin evil.example) on the page, Socket.IO and /ws, and serves the others', async () => {
    const cluster = await startCluster({
      redisUrl: redis.url,
      gateways: 2,
      webRoot,
      publicUrl: 'https://chat.example.com',
      allowedHosts: ['*.example.org'],
    });
    const { url } = cluster.gateways[0]!;
    const evil = { host: 'evil.example', origin: 'http://evil.example' };
    expect((await get(url, '/', evil)).status).toBe(421);
    expect((await get(url, HANDSHAKE, evil)).status).toBe(403);
    // Engine.IO answers every refused WebSocket upgrade 400.
    expect(await upgrade(url, WS_HANDSHAKE, evil)).toBe(400);
    expect(await upgrade(url, '/ws?room=lobby', evil)).toBe(421);
    // Probes keep working whatever Host the platform sends.
    expect((await get(url, '/healthz', evil)).status).toBe(200);
    expect((await get(url, '/readyz', evil)).status).toBe(200);

    for (const host of [
      'chat.example.com',
      'eu.example.org',
      'localhost:3000',
      '10.1.2.3:3000',
      '[::1]:3000',
    ]) {
      expect((await get(url, '/', { host })).status, host).toBe(200);
      expect((await get(url, HANDSHAKE, { host })).status, host).toBe(200);
    }
    // The public URL is https: a page of the same host over http, or no real page at all, is refused.
    for (const origin of ['http://chat.example.com', 'null', 'file://', 'chrome-extension://abc']) {
      expect((await get(url, HANDSHAKE, { host: 'chat.example.com', origin })).status, origin).toBe(403);
    }
    expect(
      (await get(url, HANDSHAKE, { host: 'chat.example.com', origin: 'https://chat.example.com' })).status,
    ).toBe(200);
    await expectClusterServes(cluster);
  });

  it('forbids framing, keeps source maps private and has no admin page files while the admin page is off', async () => {
    const cluster = await startCluster({ redisUrl: redis.url, gateways: 1, webRoot });
    const { url } = cluster.gateways[0]!;
    const page = await get(url, '/', {});
    expect(page.status).toBe(200);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(String(page.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
    for (const path of ['/app.js.map', '/style.css.map', '/admin.html', '/admin.js', '/admin']) {
      expect((await get(url, path, {})).status, path).toBe(404);
    }
    expect((await get(url, '/app.js', {})).status).toBe(200);
  });

  it('locks an address out of the admin API after 10 wrong tokens, even for the right one, without a log line each', async () => {
    const token = 'the-right-admin-token-1234';
    const cluster = await startCluster({ redisUrl: redis.url, gateways: 1, webRoot, adminToken: token });
    const { url } = cluster.gateways[0]!;
    const api = (t: string) => get(url, '/admin/api/cluster', { authorization: `Bearer ${t}` });
    expect((await api(token)).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await api(`wrong-guess-${i}-xxxxxxxx`)).status);
    expect(statuses).toEqual([...Array(10).fill(401), 429, 429]);
    const locked = await api(token);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect((await get(url, '/admin/api/cluster', { authorization: `Bearer ${token}` })).status).toBe(429);
  });

  it('locks out the client a trusted balancer names, not the balancer, on the admin API and the server API', async () => {
    const token = 'the-right-admin-token-1234';
    const apiKey = 'the-right-api-key-123456';
    const cluster = await startCluster({
      redisUrl: redis.url,
      gateways: 1,
      webRoot,
      adminToken: token,
      apiKey,
    });
    const { url } = cluster.gateways[0]!;
    // The test connects from 127.0.0.1, which the default TRUSTED_PROXIES (loopback, private) trust as a balancer.
    const from = (client: string, path: string, secret: string) =>
      get(url, path, { authorization: `Bearer ${secret}`, 'x-forwarded-for': client });
    for (const path of ['/admin/api/cluster', '/api/rooms/lobby/members']) {
      const secret = path.startsWith('/admin') ? token : apiKey;
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++)
        statuses.push((await from('203.0.113.7', path, `wrong-${i}-xxxxxxxxxxxx`)).status);
      expect(statuses, path).toEqual([...Array(10).fill(401), 429]);
      expect((await from('203.0.113.7', path, secret)).status, path).toBe(429);
      // Another client behind the same balancer is not locked out with the guesser.
      expect((await from('203.0.113.8', path, secret)).status, path).toBe(200);
    }
  });
});
