import { createHash } from 'node:crypto';
import { ChorusError, DM_ROOM_PREFIX, PRIVATE_ROOM_PREFIX } from '@chorus/protocol';

/** Who asks to enter a room: the user's id and the private rooms their token grants. */
export interface Visitor {
  user: { id: string };
  grants: readonly string[];
}

/** Characters of a user id's hash in a DM room's name: 168 bits, so no one can make an id that matches. */
const DM_HASH_CHARS = 28;

function userHash(id: string): string {
  return createHash('sha256').update(id).digest('base64url').slice(0, DM_HASH_CHARS);
}

/**
 * The direct-message room of two users: `dm-<hash of one>.<hash of the other>`, in a fixed order, so either
 * user opening it gets the same room, and its name alone says who may enter (no lookup, nothing stored).
 */
export function dmRoomName(a: string, b: string): string {
  const [x, y] = [userHash(a), userHash(b)].sort();
  return `${DM_ROOM_PREFIX}${x}.${y}`;
}

/** Whether a `rooms` claim entry grants `room`: the exact name, or a prefix ending in `*`. */
export function grantMatches(grant: string, room: string): boolean {
  return grant.endsWith('*') ? room.startsWith(grant.slice(0, -1)) : grant === room;
}

/**
 * Who may enter which room. Public rooms are open to everyone, guests included; `private-…` rooms to users whose
 * token grants them; `dm-…` rooms to their two users. Checked when a connection joins; a connection outside a
 * room that tries to send to it or read it gets the same answer (`FORBIDDEN` rather than `NOT_IN_ROOM`).
 */
export const roomAccess = {
  /** Whether `visitor` may enter `room`. */
  allows(visitor: Visitor, room: string): boolean {
    if (room.startsWith(PRIVATE_ROOM_PREFIX))
      return visitor.grants.some((grant) => grantMatches(grant, room));
    if (room.startsWith(DM_ROOM_PREFIX)) {
      const [x, y] = room.slice(DM_ROOM_PREFIX.length).split('.');
      const mine = userHash(visitor.user.id);
      return x !== undefined && y !== undefined && (x === mine || y === mine);
    }
    return true;
  },

  /** Throws `FORBIDDEN` unless `visitor` may enter `room`. */
  check(visitor: Visitor, room: string): void {
    if (roomAccess.allows(visitor, room)) return;
    throw new ChorusError(
      'FORBIDDEN',
      room.startsWith(DM_ROOM_PREFIX)
        ? `room ${room} is a direct conversation of two other users`
        : `room ${room} is private: your token does not grant it`,
    );
  },
};
