import express, { type Express, type Router } from 'express';
import { createAdminRoutes } from '../admin/admin.routes';
import type { GatewayDeps } from '../deps';
import type { ReadinessState } from '../lifecycle/readiness';
import type { Logger } from '../logger';
import type { GatewayMetrics } from '../metrics/metrics';
import type { AccessPolicy } from './access';
import type { AddressOf } from './client-address';

export interface HttpAppOptions {
  nodeId: string;
  deps: GatewayDeps;
  logger: Logger;
  /** Folder with the built web page (read on each request, so a later build is picked up); omitted means none. */
  webRoot?: string | undefined;
  /** True while the gateway drains: readiness turns 503. */
  isDraining: () => boolean;
  /** Whether the backing services let this gateway serve (judged in the background). */
  readiness: () => ReadinessState;
  /** Which `Host` names the page and the admin API answer to. */
  access: AccessPolicy;
  /** Served in the Prometheus text format at `/metrics`. */
  metrics: GatewayMetrics;
  /** Bearer token of the admin API and page (`/admin`); undefined means they answer 404. */
  adminToken?: string | undefined;
  /** The server API, mounted at `/api` (its routes may be added after the app is made); omitted means 404. */
  api?: Router | undefined;
  /** Who sent a request: the peer, or behind a trusted balancer the client it names (lockouts key on it). */
  addressOf: AddressOf;
}

/**
 * The HTTP side of a gateway: the chat page, `/healthz` (alive), `/readyz` (able to serve), `/metrics`
 * (Prometheus) and, with an admin token, the cluster page at `/admin`.
 */
export function createHttpApp(options: HttpAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    // No site may frame a Chorus page (clickjacking); the CSPs below say it too.
    res.setHeader('X-Frame-Options', 'DENY');
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', node: options.nodeId });
  });

  app.get('/readyz', (_req, res) => {
    if (options.isDraining()) {
      res.status(503).json({ status: 'draining', node: options.nodeId });
      return;
    }
    const { ready } = options.readiness();
    if (ready) res.json({ status: 'ready', node: options.nodeId, mode: options.deps.mode });
    else res.status(503).json({ status: 'unavailable', node: options.nodeId });
  });

  app.get('/metrics', async (_req, res) => {
    try {
      const body = await options.metrics.registry.metrics();
      res.setHeader('Content-Type', options.metrics.registry.contentType);
      res.setHeader('Cache-Control', 'no-store');
      res.send(body);
    } catch (error) {
      options.logger.warn({ err: { message: (error as Error).message } }, 'metrics collection failed');
      res.status(500).json({ error: 'metrics unavailable' });
    }
  });

  // Backends call the server API by whatever name reaches a gateway; a browser page (DNS rebinding) cannot
  // present its bearer key, so it is answered before the host check too.
  if (options.api) app.use('/api', options.api);

  // Probes and scrapes come with whatever Host the platform uses (a pod IP, `chorus-lb`): answered before the
  // host check. Everything after it is only for hosts this cluster serves (DNS rebinding).
  app.use((req, res, next) => {
    if (options.access.hostAllowed(req)) return next();
    res.status(421).json({ error: 'unknown host' });
  });

  if (options.adminToken) {
    app.use(
      createAdminRoutes({
        token: options.adminToken,
        nodeId: options.nodeId,
        deps: options.deps,
        logger: options.logger,
        webRoot: options.webRoot,
        addressOf: options.addressOf,
      }),
    );
  }

  if (options.webRoot) {
    // Source maps stay private, and the cluster page's files exist only while the admin page is on.
    app.use((req, res, next) => {
      if (req.path.endsWith('.map') || (!options.adminToken && req.path.startsWith('/admin'))) {
        res.status(404).json({ error: 'not found' });
        return;
      }
      next();
    });
    app.use(
      express.static(options.webRoot, {
        index: 'index.html',
        setHeaders: (res) => {
          res.setHeader(
            'Content-Security-Policy',
            "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
          );
        },
      }),
    );
  }

  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  return app;
}
