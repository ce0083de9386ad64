import { join } from 'node:path';
import type { ClusterView } from '@chorus/protocol';
import express, { type Router } from 'express';
import type { GatewayDeps } from '../deps';
import { bearerGate } from '../http/bearer';
import type { AddressOf } from '../http/client-address';
import { connectionSpread } from '../lifecycle/rebalancer';
import type { Logger } from '../logger';

/** Rooms listed on the cluster page, busiest first. */
export const BUSIEST_ROOMS = 20;

/** The page's CSP: its own script, style and API only; nothing inline, no frames. */
const ADMIN_CSP =
  "default-src 'self'; connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

export interface AdminRoutesOptions {
  /** The bearer token of the admin API, at least 16 characters. */
  token: string;
  nodeId: string;
  deps: Pick<GatewayDeps, 'stats' | 'presence'>;
  logger: Logger;
  /** Folder of the built web page, holding `admin.html`; omitted means the page is not served. */
  webRoot?: string | undefined;
  /** Who sent a request (behind a trusted balancer, the client it names): wrong tokens lock out that address. */
  addressOf: AddressOf;
}

/**
 * The operators' cluster page at `/admin` and its JSON API at `/admin/api/cluster`, which requires
 * `Authorization: Bearer <ADMIN_TOKEN>`. Any gateway answers for the whole cluster: the data comes from the
 * cluster stats and presence stores, not from this process.
 */
export function createAdminRoutes(options: AdminRoutesOptions): Router {
  const router = express.Router();
  const log = options.logger.child({ component: 'admin' });
  const gate = bearerGate({
    secret: options.token,
    realm: 'chorus-admin',
    addressOf: options.addressOf,
    logger: log,
  });

  router.get('/admin/api/cluster', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const refusal = gate(req, res);
    if (refusal?.code === 'RATE_LIMITED') {
      res.status(429).json({ error: 'too many failed attempts' });
      return;
    }
    if (refusal) {
      res.status(401).json({ error: 'unauthorized' });
      return;
    }
    try {
      const [nodes, rooms] = await Promise.all([
        options.deps.stats.list(),
        options.deps.presence.rooms({ offset: 0, limit: BUSIEST_ROOMS }),
      ]);
      const view: ClusterView = {
        node: options.nodeId,
        generatedAt: Date.now(),
        nodes,
        rooms,
        totals: {
          nodes: nodes.length,
          connections: sum(nodes, (n) => n.connections),
          connectionSpread: round(connectionSpread(nodes.filter((n) => !n.draining))),
          messagesInPerSec: round(sum(nodes, (n) => n.messagesInPerSec)),
          messagesOutPerSec: round(sum(nodes, (n) => n.messagesOutPerSec)),
        },
      };
      res.json(view);
    } catch (error) {
      log.warn({ err: { message: (error as Error).message } }, 'cluster view unavailable');
      res.status(503).json({ error: 'unavailable' });
    }
  });

  const webRoot = options.webRoot;
  if (webRoot) {
    router.get('/admin', (_req, res, next) => {
      res.setHeader('Content-Security-Policy', ADMIN_CSP);
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(join(webRoot, 'admin.html'), (error) => {
        if (error) next();
      });
    });
  }
  return router;
}

function sum<T>(items: T[], value: (item: T) => number): number {
  return items.reduce((total, item) => total + value(item), 0);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
