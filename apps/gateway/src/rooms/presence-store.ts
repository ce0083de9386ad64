import { DM_ROOM_PREFIX, PRIVATE_ROOM_PREFIX, type RoomSummary, type User } from '@chorus/protocol';

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
  /** Records the membership; says whether it is new, and whether it is the user's first connection in the room. */
  join(membership: Membership): Promise<PresenceChange>;
  /** `join` and then `members`, in one round trip: what a connection joining a room needs. */
  enter(membership: Membership, limit: number): Promise<{ change: PresenceChange; members: RoomMembers }>;
  /** Removes the membership; says whether it existed, and whether it was the user's last connection in the room. */
  leave(membership: Membership): Promise<PresenceChange>;
  /**
   * The distinct users in `room` on live gateways: all of them, or a sample of about `limit` in a bigger room,
   * so a join costs the same in a room of ten and of ten thousand.
   */
  members(room: string, limit: number): Promise<RoomMembers>;
  /**
   * One page of the rooms with members, busiest first (ties by name), from an index kept up to date by
   * join, leave and sweep: its cost depends on the page, not on how many rooms exist. Counts may include a
   * dead gateway's members until they are swept (a few seconds).
   */
  rooms(page: RoomsPage): Promise<RoomSummary[]>;
  /** Marks `node` alive now. */
  heartbeat(node: string): Promise<void>;
  /** Drops every membership held by `node` (its shutdown); says which users that took out of which rooms. */
  removeNode(node: string): Promise<Sweep>;
  /**
   * Drops the memberships of gateways whose heartbeat expired. Of concurrent sweeps exactly one removes each
   * membership, so exactly one learns that a user's last connection in a room went, and announces it.
   */
  sweep(): Promise<Sweep>;
}

/** What a sweep did: how many gateways it swept, and the users who left a room with them (their last connection). */
export interface Sweep {
  nodes: number;
  departed: { room: string; user: User }[];
}

/**
 * What a join or leave changed, decided atomically in the store, so that across gateways exactly one join
 * announces a user `joined` and exactly one leave announces them `left`.
 */
export interface PresenceChange {
  /** The connection's membership was added (join) or removed (leave). */
  connection: boolean;
  /** With it the user came into the room (their first connection there) or went (their last). */
  user: boolean;
}

/** Who is in a room: every distinct user, or a sample of `limit` of them in a bigger room, and how many there are. */
export interface RoomMembers {
  users: User[];
  /** Distinct users; may count a dead gateway's members until they are swept. */
  count: number;
}

/** A page of `rooms`: skip `offset` rooms, return at most `limit`. */
export interface RoomsPage {
  offset: number;
  limit: number;
}

/** A gateway heartbeats this often… */
export const HEARTBEAT_INTERVAL_MS = 2_000;
/** …and counts as dead after this long without one. */
export const NODE_TTL_MS = 6_000;

/** Whether `room` shows in `rooms`: public rooms do; private (`private-…`) and direct-message (`dm-…`) rooms do not. */
export function isListed(room: string): boolean {
  return !room.startsWith(PRIVATE_ROOM_PREFIX) && !room.startsWith(DM_ROOM_PREFIX);
}

/** Busiest first, then by name in code-unit order (as Redis orders equal scores). */
export function sortRooms(rooms: RoomSummary[], { offset, limit }: RoomsPage): RoomSummary[] {
  return rooms
    .filter((r) => r.members > 0)
    .sort((a, b) => b.members - a.members || (a.room < b.room ? -1 : a.room > b.room ? 1 : 0))
    .slice(offset, offset + limit);
}
