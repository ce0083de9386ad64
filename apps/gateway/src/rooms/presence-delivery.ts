import type { PresenceBatchEvent, PresenceEvent } from '@chorus/protocol';
import type { AnnouncedPresence } from '../bus/room-bus';
import type { ChorusServer } from '../context';
import type { RoomMembers } from './presence-store';

/**
 * Hands presence changes of one room, as heard from the bus, to this gateway's members of the room: one change
 * as a `presence` event, several as one `presence:batch`. No connection hears of its own change: a connection
 * that caused one of several gets the others in a frame of its own.
 */
export function emitPresence(io: ChorusServer, changes: readonly AnnouncedPresence[]): void {
  const first = changes[0];
  if (!first) return;
  const room = first.event.room;
  if (changes.length === 1) {
    const local = first.except === undefined ? io.local.to(room) : io.local.to(room).except(first.except);
    local.emit('presence', first.event);
    return;
  }
  const causes = changes.flatMap(({ except }) => (except === undefined ? [] : [except]));
  io.local.to(room).except(causes).emit('presence:batch', batchOf(room, changes));
  const sockets = io.of('/').sockets;
  for (const cause of causes) {
    const socket = sockets.get(cause);
    if (!socket?.rooms.has(room)) continue;
    const others = changes.filter(({ except }) => except !== cause);
    if (others.length === 1) socket.emit('presence', others[0]!.event);
    else if (others.length > 1) socket.emit('presence:batch', batchOf(room, others));
  }
}

function batchOf(room: string, changes: readonly AnnouncedPresence[]): PresenceBatchEvent {
  const batch: PresenceBatchEvent = { room, joined: [], left: [] };
  for (const { event } of changes) (event.state === 'joined' ? batch.joined : batch.left).push(event.user);
  return batch;
}

type Watcher = (changes: readonly AnnouncedPresence[]) => void;

/**
 * Presence heard for rooms whose joins are under way. A connection hears a room's presence once its join
 * subscribes it, at the very end: what the room heard between the join's member read and then would be lost to
 * it (and in a mass reconnect, that is most of the room). The join watches meanwhile and folds what it heard
 * into the member list it answers with (`withHeard`).
 */
export class PresenceWatch {
  readonly #watchers = new Map<string, Set<Watcher>>();

  /** Calls `watcher` with the presence heard for `room` until the returned function is called. */
  watch(room: string, watcher: Watcher): () => void {
    let watchers = this.#watchers.get(room);
    if (!watchers) {
      watchers = new Set();
      this.#watchers.set(room, watchers);
    }
    watchers.add(watcher);
    return () => {
      watchers.delete(watcher);
      if (watchers.size === 0 && this.#watchers.get(room) === watchers) this.#watchers.delete(room);
    };
  }

  /** Presence heard from the bus, all of one room. */
  heard(changes: readonly AnnouncedPresence[]): void {
    const room = changes[0]?.event.room;
    const watchers = room === undefined ? undefined : this.#watchers.get(room);
    if (watchers) for (const watcher of watchers) watcher(changes);
  }
}

/**
 * A join's member list with the presence heard while the join was under way applied, the latest change per user
 * (the joining user's own aside): joined users added, users who left removed. Applying a change the read already
 * reflected changes nothing. A sampled list (a room bigger than the list) only loses who left: whether a user
 * who came is already counted is not known.
 */
export function withHeard(
  members: RoomMembers,
  heard: readonly AnnouncedPresence[],
  self: string,
  limit: number,
): RoomMembers {
  if (heard.length === 0) return members;
  const latest = new Map<string, PresenceEvent>();
  for (const { event } of heard) if (event.user.id !== self) latest.set(event.user.id, event);
  const complete = members.users.length >= members.count;
  const users = new Map(members.users.map((user) => [user.id, user]));
  let count = members.count;
  for (const { user, state } of latest.values()) {
    if (state === 'left') {
      if (users.delete(user.id)) count -= 1;
    } else if (complete && !users.has(user.id) && users.size < limit) {
      users.set(user.id, user);
      count += 1;
    }
  }
  return { users: [...users.values()], count: Math.max(count, users.size) };
}
