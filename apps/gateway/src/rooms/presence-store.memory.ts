import type { RoomSummary, User } from '@chorus/protocol';
import {
  type Membership,
  type PresenceStore,
  type RoomMembers,
  type RoomsPage,
  sortRooms,
} from './presence-store';

/** The embedded-mode presence store: one process holds every connection, so no heartbeats are needed. */
export class MemoryPresenceStore implements PresenceStore {
  /** room → connId → membership */
  readonly #rooms = new Map<string, Map<string, Membership>>();

  async join(membership: Membership): Promise<boolean> {
    let members = this.#rooms.get(membership.room);
    if (!members) {
      members = new Map();
      this.#rooms.set(membership.room, members);
    }
    const isNew = !members.has(membership.connId);
    members.set(membership.connId, { ...membership, user: { ...membership.user } });
    return isNew;
  }

  async leave({ room, connId }: Membership): Promise<boolean> {
    const members = this.#rooms.get(room);
    const existed = members?.delete(connId) ?? false;
    if (members?.size === 0) this.#rooms.delete(room);
    return existed;
  }

  async members(room: string, limit: number): Promise<RoomMembers> {
    const users = distinctUsers(this.#rooms.get(room)?.values() ?? []);
    return { users: users.slice(0, limit), count: users.length };
  }

  // One process and no network hop: sorting the rooms on each call is cheap enough here (the caller's
  // request budget bounds how often).
  async rooms(page: RoomsPage): Promise<RoomSummary[]> {
    const all = [...this.#rooms].map(([room, members]) => ({
      room,
      members: distinctUsers(members.values()).length,
    }));
    return sortRooms(all, page);
  }

  async heartbeat(): Promise<void> {}

  async removeNode(node: string): Promise<void> {
    for (const [room, members] of this.#rooms) {
      for (const [connId, m] of members) if (m.node === node) members.delete(connId);
      if (members.size === 0) this.#rooms.delete(room);
    }
  }

  async sweep(): Promise<number> {
    return 0;
  }
}

function distinctUsers(memberships: Iterable<Membership>): User[] {
  const users = new Map<string, User>();
  for (const m of memberships) if (!users.has(m.user.id)) users.set(m.user.id, { ...m.user });
  return [...users.values()];
}
