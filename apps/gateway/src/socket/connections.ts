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

/**
 * `make(key)` made once per key (a service, a metrics registry) and kept as long as the key: what the listeners
 * of every socket share.
 */
export function oncePer<K extends object, V>(make: (key: K) => V): (key: K) => V {
  const made = new WeakMap<K, V>();
  return (key) => {
    let value = made.get(key);
    if (value === undefined) {
      value = make(key);
      made.set(key, value);
    }
    return value;
  };
}
