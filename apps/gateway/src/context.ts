import type {
  ClientToServerEvents,
  InterServerEvents,
  ServerToClientEvents,
  SocketData,
} from '@chorus/protocol';
import type { Server } from 'socket.io';
import type { RoomFeed } from './chat/room-feed';
import type { GatewayDeps } from './deps';
import type { Inflight } from './inflight';
import type { AddressLimiter } from './limits/address-limiter';
import type { Logger } from './logger';
import type { GatewayMetrics } from './metrics/metrics';
import type { Inboxes } from './rooms/inboxes';
import type { PresenceAnnouncer } from './rooms/presence-announcer';
import type { PresenceWatch } from './rooms/presence-delivery';

export type ChorusServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** What every feature of one gateway shares. */
export interface GatewayContext {
  io: ChorusServer;
  deps: GatewayDeps;
  nodeId: string;
  /**
   * This process's incarnation of the gateway in presence: the node id plus a random part per start. A gateway
   * that crashes and comes back under the same node id is a new incarnation, so its predecessor stops
   * heartbeating and the memberships it held are swept, instead of living on as ghosts.
   */
  presenceNode: string;
  logger: Logger;
  /** True once a drain stopped taking sends (they are answered `UNAVAILABLE` and retried elsewhere). */
  isStopping(): boolean;
  /** Per-room sequencer between the cluster feed and this gateway's members. */
  feed: RoomFeed;
  /** Sends in progress, awaited by a drain. */
  inflight: Inflight;
  /** Presence events out to the cluster, coalesced per room. */
  presenceAnnouncer: PresenceAnnouncer;
  /** Presence heard for rooms whose joins are under way. */
  presenceWatch: PresenceWatch;
  /** The inboxes of the users connected here: how notices for a user (a DM opened) reach their connections. */
  inboxes: Inboxes;
  /** Per-address limits: connections, sends, new rooms. */
  addressLimiter: AddressLimiter;
  /** This gateway's Prometheus metrics. */
  metrics: GatewayMetrics;
}
