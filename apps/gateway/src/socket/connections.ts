import type { Socket } from 'socket.io';
import type { Connection } from '../connection';

/** Each Socket.IO socket's connection; the entry goes with its socket. */
const connections = new WeakMap<Socket, Connection>();

/**
 * Ties `conn` to `socket` for the listeners that every socket shares: they find their connection through
 * `this` instead of closing over it, so an idle connection carries one listener entry per event, not a
 * closure with its context.
 */
export function attachConnection(socket: Socket, conn: Connection): void {
  connections.set(socket, conn);
}

/** The connection `attachConnection` tied to `socket`, if any. */
export function connectionOf(socket: Socket): Connection | undefined {
  return connections.get(socket);
}
