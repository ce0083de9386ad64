import type { PresenceBatchEvent } from '@chorus/protocol';
import type { AnnouncedPresence } from '../bus/room-bus';
import type { ChorusServer } from '../context';

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
