import type { RoomSummary, User } from '@chorus/protocol';

/** One connection's membership of a room. */
export interface Membership {
  room: string;
  /** Connection id (Socket.IO socket id or plain WebSocket id), unique in the cluster. */
  connId: string;
  user: User;
  /** Gateway that holds the connection. */
  node: string;
}

/**
 * Who is in which room, across the cluster. Each gateway records its own connections and heartbeats;
 * memberships held by a gateway that stopped heartbeating are ignored at once and swept soon after,
 * so a killed gateway's users leave the member lists by themselves.
 */
export interface PresenceStore {
  /** Records the membership; resolves true when it is new (false when this connection was already in). */
  join(membership: Membership): Promise<boolean>;
  /** Removes the membership; resolves true when it existed. */
  leave(membership: Omit<Membership, 'user'>): Promise<boolean>;
  /** The distinct users in `room` on live gateways. */
  members(room: string): Promise<User[]>;
  /** Rooms with at least one member, busiest first, at most `limit`. */
  rooms(limit: number): Promise<RoomSummary[]>;
  /** Marks `node` alive now. */
  heartbeat(node: string): Promise<void>;
  /** Drops every membership held by `node` (its shutdown). */
  removeNode(node: string): Promise<void>;
  /** Drops the memberships of gateways whose heartbeat expired; resolves to how many gateways were swept. */
  sweep(): Promise<number>;
}

/** A gateway heartbeats this often… */
export const HEARTBEAT_INTERVAL_MS = 2_000;
/** …and counts as dead after this long without one. */
export const NODE_TTL_MS = 6_000;

export function sortRooms(rooms: RoomSummary[], limit: number): RoomSummary[] {
  return rooms
    .filter((r) => r.members > 0)
    .sort((a, b) => b.members - a.members || a.room.localeCompare(b.room))
    .slice(0, limit);
}
