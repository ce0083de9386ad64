import { type RoomSummary, toUser, type User } from '@chorus/protocol';
import {
  isListed,
  type Membership,
  type PresenceChange,
  type PresenceStore,
  type RoomMembers,
  type RoomsPage,
  type Sweep,
  sortRooms,
} from './presence-store';

/** One room's members: its connections, and each user once with how many of their connections are in. */
interface RoomState {
  connections: Map<string, Membership>;
  users: Map<string, { user: User; connections: number }>;
}

/** The embedded-mode presence store: one process holds every connection, so no heartbeats are needed. */
export class MemoryPresenceStore implements PresenceStore {
  readonly #rooms = new Map<string, RoomState>();

  async join(membership: Membership): Promise<PresenceChange> {
    let state = this.#rooms.get(membership.room);
    if (!state) {
      state = { connections: new Map(), users: new Map() };
      this.#rooms.set(membership.room, state);
    }
    if (state.connections.has(membership.connId)) return { connection: false, user: false };
    state.connections.set(membership.connId, { ...membership, user: toUser(membership.user) });
    const entry = state.users.get(membership.user.id);
    if (entry) entry.connections += 1;
    else state.users.set(membership.user.id, { user: toUser(membership.user), connections: 1 });
    return { connection: true, user: entry === undefined };
  }

  async enter(
    membership: Membership,
    limit: number,
  ): Promise<{ change: PresenceChange; members: RoomMembers }> {
    const change = await this.join(membership);
    return { change, members: await this.members(membership.room, limit) };
  }

  async leave({ room, connId }: Membership): Promise<PresenceChange> {
    const state = this.#rooms.get(room);
    const membership = state?.connections.get(connId);
    if (!state || !membership) return { connection: false, user: false };
    return { connection: true, user: this.#remove(room, state, connId, membership) };
  }

  async members(room: string, limit: number): Promise<RoomMembers> {
    const users = [...(this.#rooms.get(room)?.users.values() ?? [])];
    return { users: users.slice(0, limit).map((entry) => ({ ...entry.user })), count: users.length };
  }

  // One process and no network hop: sorting the rooms on each call is cheap enough here (the caller's
  // request budget bounds how often).
  async rooms(page: RoomsPage): Promise<RoomSummary[]> {
    const all = [...this.#rooms]
      .filter(([room]) => isListed(room))
      .map(([room, state]) => ({ room, members: state.users.size }));
    return sortRooms(all, page);
  }

  async heartbeat(): Promise<void> {}

  async removeNode(node: string): Promise<Sweep> {
    const departed: Sweep['departed'] = [];
    for (const [room, state] of this.#rooms) {
      for (const [connId, m] of state.connections) {
        if (m.node === node && this.#remove(room, state, connId, m)) departed.push({ room, user: m.user });
      }
    }
    return { nodes: 1, departed };
  }

  // One process: no other gateway can die without this one.
  async sweep(): Promise<Sweep> {
    return { nodes: 0, departed: [] };
  }

  /** Removes one connection; true when it was its user's last in the room. */
  #remove(room: string, state: RoomState, connId: string, membership: Membership): boolean {
    state.connections.delete(connId);
    const entry = state.users.get(membership.user.id);
    let last = false;
    if (entry && --entry.connections <= 0) {
      state.users.delete(membership.user.id);
      last = true;
    }
    if (state.connections.size === 0) this.#rooms.delete(room);
    return last;
  }
}
