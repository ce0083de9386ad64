import express, { type Express } from 'express';
import { createAdminRoutes } from '../admin/admin.routes';
import type { GatewayDeps } from '../deps';
import type { ReadinessState } from '../lifecycle/readiness';
import type { Logger } from '../logger';
import type { GatewayMetrics } from '../metrics/metrics';

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
  /** Served in the Prometheus text format at `/metrics`. */
  metrics: GatewayMetrics;
  /** Bearer token of the admin API and page (`/admin`); undefined means they answer 404. */
  adminToken?: string | undefined;
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

  if (options.adminToken) {
    app.use(
      createAdminRoutes({
        token: options.adminToken,
        nodeId: options.nodeId,
        deps: options.deps,
        logger: options.logger,
        webRoot: options.webRoot,
      }),
    );
  }

  if (options.webRoot) {
    app.use(
      express.static(options.webRoot, {
        index: 'index.html',
        setHeaders: (res) => {
          res.setHeader(
            'Content-Security-Policy',
            "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; object-src 'none'; base-uri 'none'",
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
