import { mkdtempSync, writeFileSync } from 'node:fs';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayDeps } from '../deps';
import type { Logger } from '../logger';
import { createMetrics, type GatewayMetrics } from '../metrics/metrics';
import { AccessPolicy } from './access';
import { createHttpApp, type HttpAppOptions } from './app';

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

const warnings: unknown[] = [];
const logger = {
  warn: (...args: unknown[]) => warnings.push(args),
  child: () => logger,
} as unknown as Logger;

async function serve(overrides: Partial<HttpAppOptions> = {}) {
  const app = createHttpApp({
    nodeId: 'gw-1',
    deps: { mode: 'memory' } as GatewayDeps,
    logger,
    isDraining: () => false,
    readiness: () => ({ ready: true }) as ReturnType<HttpAppOptions['readiness']>,
    access: new AccessPolicy({ publicUrl: 'https://chat.example' }),
    metrics: createMetrics('gw-1', { processMetrics: false }),
    addressOf: (req) => req.socket.remoteAddress ?? 'unknown',
    ...overrides,
  });
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as AddressInfo).port;
  // node:http rather than fetch, which does not let a request say its own Host.
  return (path: string, headers: Record<string, string> = {}) =>
    new Promise<Response>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const head = new Headers();
          for (const [name, value] of Object.entries(res.headers))
            if (typeof value === 'string') head.set(name, value);
          resolve(
            new Response(res.statusCode === 204 ? null : Buffer.concat(chunks), {
              status: res.statusCode!,
              headers: head,
            }),
          );
        });
      });
      req.on('error', reject);
      req.end();
    });
}

const chat = { host: 'chat.example' };

describe('the gateway’s HTTP side', () => {
  it('says it is alive, with security headers and no x-powered-by', async () => {
    const get = await serve();
    const res = await get('/healthz', { host: 'pod-ip' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', node: 'gw-1' });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('is ready while it can serve, 503 while draining or without its backing services', async () => {
    let draining = false;
    let ready = true;
    const get = await serve({
      isDraining: () => draining,
      readiness: () => ({ ready }) as ReturnType<HttpAppOptions['readiness']>,
    });
    let res = await get('/readyz');
    expect([res.status, await res.json()]).toEqual([200, { status: 'ready', node: 'gw-1', mode: 'memory' }]);
    ready = false;
    res = await get('/readyz');
    expect([res.status, await res.json()]).toEqual([503, { status: 'unavailable', node: 'gw-1' }]);
    draining = true;
    res = await get('/readyz');
    expect([res.status, await res.json()]).toEqual([503, { status: 'draining', node: 'gw-1' }]);
  });

  it('serves its metrics in the Prometheus format, not cached, and 500 when they cannot be collected', async () => {
    const metrics = createMetrics('gw-1', { processMetrics: false });
    const get = await serve({ metrics });
    let res = await get('/metrics', { host: 'chorus-lb' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(metrics.registry.contentType);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toContain('chorus_ack_latency_seconds');
    const broken = {
      ...metrics,
      registry: { ...metrics.registry, metrics: async () => Promise.reject(new Error('boom')) },
    };
    const getBroken = await serve({ metrics: broken as unknown as GatewayMetrics });
    res = await getBroken('/metrics');
    expect([res.status, await res.json()]).toEqual([500, { error: 'metrics unavailable' }]);
    expect(warnings.at(-1)).toEqual([{ err: { message: 'boom' } }, 'metrics collection failed']);
  });

  it('answers the server API whatever the host, and everything else only for hosts it serves', async () => {
    const api = express.Router();
    api.get('/ping', (_req, res) => {
      res.json({ pong: true });
    });
    const get = await serve({ api });
    expect(await (await get('/api/ping', { host: 'backend.internal' })).json()).toEqual({ pong: true });
    const refused = await get('/', { host: 'evil.example' });
    expect([refused.status, await refused.json()]).toEqual([421, { error: 'unknown host' }]);
    const missing = await get('/nothing', chat);
    expect([missing.status, await missing.json()]).toEqual([404, { error: 'not found' }]);
    const noApi = await serve();
    expect((await noApi('/api/ping', chat)).status).toBe(404);
  });

  it('serves the page with its CSP, but no source maps and no admin files without an admin token', async () => {
    const webRoot = mkdtempSync(join(tmpdir(), 'chorus-web-'));
    writeFileSync(join(webRoot, 'index.html'), '<p>chorus</p>');
    writeFileSync(join(webRoot, 'app.js.map'), '{}');
    writeFileSync(join(webRoot, 'admin.html'), 'admin');
    const get = await serve({ webRoot });
    const page = await get('/', chat);
    expect(page.status).toBe(200);
    expect(await page.text()).toBe('<p>chorus</p>');
    expect(page.headers.get('content-security-policy')).toBe(
      "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    );
    expect((await get('/app.js.map', chat)).status).toBe(404);
    expect((await get('/admin.html', chat)).status).toBe(404);
  });

  it('mounts the admin routes, behind their bearer token, only with an admin token', async () => {
    const get = await serve({ adminToken: 'let-me-in' });
    expect((await get('/admin/api/cluster', chat)).status).toBe(401);
    const without = await serve();
    expect((await without('/admin/api/cluster', chat)).status).toBe(404);
  });
});
