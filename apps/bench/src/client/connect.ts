import type { ClientToServerEvents, ServerToClientEvents } from '@chorus/protocol';
import { io, type Socket } from 'socket.io-client';

/**
 * A raw socket.io-client connection: no SDK outbox, dedupe or resume, so the load generator spends its CPU on
 * the wire and little else. Relays speak the same events, so the same type serves every target.
 */
export type BenchSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface ConnectOptions {
  /** Connections being opened at once (default 100): more only fills the servers' accept queues. */
  concurrency?: number;
  /** How long one connection may take (default 20 s). */
  timeoutMs?: number;
  /** Called after each connection, for progress lines. */
  onConnected?: (done: number) => void;
}

/** Opening connections failed; every connection opened so far has been closed again. */
export class ConnectError extends Error {
  override name = 'ConnectError';
}

/**
 * Opens `count` WebSocket connections, connection `i` to `urls[i % urls.length]` (round-robin over gateways),
 * and resolves once all are connected. On the first failure it closes them all and throws a `ConnectError`
 * that says how many had connected and why, with advice when the cause is the open-file limit.
 */
export async function connectClients(
  urls: readonly string[],
  count: number,
  options: ConnectOptions = {},
): Promise<BenchSocket[]> {
  const sockets: BenchSocket[] = new Array(count);
  let next = 0;
  let done = 0;
  let failure: Error | undefined;
  const worker = async () => {
    while (failure === undefined && next < count) {
      const i = next++;
      try {
        sockets[i] = await connectOne(urls[i % urls.length]!, `b${i}`, options.timeoutMs ?? 20_000);
        done += 1;
        options.onConnected?.(done);
      } catch (error) {
        failure ??= error as Error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(count, options.concurrency ?? 100) }, worker));
  if (failure !== undefined) {
    closeClients(sockets.filter(Boolean));
    const emfile = /EMFILE|too many open files/i.test(failure.message);
    throw new ConnectError(
      `connected ${done} of ${count} clients, then: ${failure.message}` +
        (emfile ? ' (out of file descriptors: run `ulimit -n 65536` first)' : ''),
    );
  }
  return sockets;
}

function connectOne(url: string, name: string, timeoutMs: number): Promise<BenchSocket> {
  return new Promise((resolve, reject) => {
    const socket: BenchSocket = io(url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: timeoutMs,
      auth: { name },
    });
    socket.once('connect', () => {
      socket.off('connect_error');
      resolve(socket);
    });
    socket.once('connect_error', (error: Error & { description?: unknown }) => {
      socket.disconnect();
      // The transport's own error (ECONNREFUSED, EMFILE…) hides in `description`.
      const cause = error.description instanceof Error ? `: ${error.description.message}` : '';
      reject(new Error(`${url}: ${error.message}${cause}`));
    });
  });
}

/** Closes connections (they go at once; the servers clean up in the background). */
export function closeClients(sockets: readonly BenchSocket[]): void {
  for (const socket of sockets) {
    socket.removeAllListeners();
    socket.disconnect();
  }
}

/** Joins `room` on `socket` and resolves with whether the ack was `ok` (false on a refusal or timeout). */
export function joinRoom(socket: BenchSocket, room: string, timeoutMs = 20_000): Promise<boolean> {
  return new Promise((resolve) => {
    socket.timeout(timeoutMs).emit('room:join', { room }, (error, response) => {
      resolve(!error && response.ok);
    });
  });
}
