import type { Socket } from 'socket.io';

/** Bytes a connection may have waiting to be sent before it counts as a slow consumer (default 4 MiB). */
export const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/**
 * What a Socket.IO connection has not sent yet: what its WebSocket still buffers, plus the packets Engine.IO
 * holds for it (a long-polling client that does not poll, or a WebSocket whose writes are backed up).
 */
export function bufferedBytes(socket: Socket): number {
  const conn = socket.conn as unknown as {
    writeBuffer?: { data?: unknown }[];
    transport?: { name?: string; socket?: { bufferedAmount?: number } };
  };
  let bytes = conn.transport?.name === 'websocket' ? (conn.transport.socket?.bufferedAmount ?? 0) : 0;
  for (const packet of conn.writeBuffer ?? []) {
    const data = packet.data;
    if (typeof data === 'string') bytes += data.length;
    else if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) bytes += data.byteLength;
  }
  return bytes;
}

/**
 * Drops the connection at once, unsent output and all: a WebSocket close handshake would wait behind the very
 * backlog that got it dropped. The client sees its connection end and may resume.
 */
function drop(socket: Socket): void {
  const conn = socket.conn as unknown as {
    transport?: { socket?: { terminate?(): void } };
    close(discard?: boolean): void;
  };
  conn.transport?.socket?.terminate?.();
  conn.close(true);
}

export interface SlowConsumerWatch {
  stop(): void;
}

/**
 * Every `intervalMs`, closes the transport of every Socket.IO connection with more than `maxBytes` unsent:
 * a client that stops reading (but still answers the keep-alive) must not make the gateway buffer for it
 * without end. It may reconnect and resume; nobody else waits for it.
 */
export function watchSlowConsumers(
  sockets: () => Iterable<Socket>,
  {
    maxBytes,
    intervalMs = 1_000,
    onClose,
  }: { maxBytes: number; intervalMs?: number; onClose(socket: Socket, bytes: number): void },
): SlowConsumerWatch {
  const timer = setInterval(() => {
    for (const socket of sockets()) {
      const bytes = bufferedBytes(socket);
      if (bytes > maxBytes) {
        onClose(socket, bytes);
        drop(socket);
      }
    }
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
