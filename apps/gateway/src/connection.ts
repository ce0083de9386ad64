import type { User } from '@chorus/protocol';
import type { TokenBucket } from './limits/token-bucket';
import type { Logger } from './logger';

/**
 * One client connection as the services see it, whatever its transport (Socket.IO or plain WebSocket).
 * The transport decides how a room's live messages reach it (`subscribe`/`unsubscribe`).
 */
export interface Connection {
  /** Unique in the cluster: the Socket.IO socket id, or `ws-<random>` for plain WebSocket clients. */
  readonly id: string;
  readonly user: User;
  /** Private rooms the user may enter (their token's `rooms` claim); empty for guests. */
  readonly grants: readonly string[];
  /** The client's address, for the per-address limits. */
  readonly address: string;
  /** Rooms this connection has joined. */
  readonly rooms: Set<string>;
  readonly log: Logger;
  readonly limiter: TokenBucket;
  /** True once the client is gone: work queued for it (a join waiting its turn) is dropped. */
  readonly closed: boolean;
  subscribe(room: string): void;
  unsubscribe(room: string): void;
}
