import type { RoomSummary } from './events';

// The operators' admin API, `GET /admin/api/cluster` (`Authorization: Bearer <ADMIN_TOKEN>`): served by every
// gateway, read by the cluster page.

/** What one gateway reports about itself for the operators' cluster page. */
export interface NodeReport {
  node: string;
  /** Open client connections (Socket.IO and plain WebSocket). */
  connections: number;
  /** Rooms with at least one local member. */
  rooms: number;
  /** Messages accepted from this gateway's clients per second, over the last report interval. */
  messagesInPerSec: number;
  /** Messages delivered to this gateway's connections per second (one per recipient). */
  messagesOutPerSec: number;
  /** When the gateway started, ms since the Unix epoch (its own clock). */
  startedAt: number;
  /** When this report was made, ms since the Unix epoch (the gateway's clock). */
  reportedAt: number;
  /** True while the gateway drains before stopping. */
  draining: boolean;
}

/** The sums over every live gateway's report; rates are rounded to two decimals. */
export interface ClusterTotals {
  nodes: number;
  connections: number;
  /**
   * How evenly connections are spread: the largest distance of a gateway (draining ones left out) from the
   * average, as a ratio of it (0.2 = 20%); gateways rebalance themselves past 20% by default.
   */
  connectionSpread: number;
  messagesInPerSec: number;
  messagesOutPerSec: number;
}

/**
 * What `GET /admin/api/cluster` answers: the whole cluster as its stores see it, whichever gateway answers.
 *
 * @example
 * const view: ClusterView = await (await fetch('/admin/api/cluster', { headers })).json();
 * console.log(`${view.totals.connections} connections on ${view.totals.nodes} gateways`);
 */
export interface ClusterView {
  /** The gateway that answered. */
  node: string;
  /** When the answer was made, ms since the Unix epoch (the answering gateway's clock). */
  generatedAt: number;
  /** The live gateways' reports, ordered by node. */
  nodes: NodeReport[];
  /** The busiest rooms across the cluster, most members first. */
  rooms: RoomSummary[];
  totals: ClusterTotals;
}
