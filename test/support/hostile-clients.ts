import type { Socket } from 'socket.io-client';
import { WebSocket } from 'ws';
import { withTimeout } from './wait';

/**
 * Emits `event` with `args` plus an ack, bypassing the typed event map, and resolves with the ack's response.
 * For sending what the protocol forbids: wrong payload types, unknown events, extra or missing arguments.
 */
export function emitUnchecked(socket: unknown, event: string, ...args: unknown[]): Promise<unknown> {
  return withTimeout((socket as Socket).timeout(5_000).emitWithAck(event, ...args), 6_000, `${event} ack`);
}

/** Emits `event` with `args` and no ack, bypassing the typed event map. */
export function emitWithoutAck(socket: unknown, event: string, ...args: unknown[]): void {
  (socket as Socket).emit(event, ...args);
}

/**
 * A Socket.IO client written by hand on a bare WebSocket, so a test can send frames socket.io-client would
 * never produce: its encoder walks every payload recursively, and `JSON.stringify` overflows the stack on
 * arrays nested a few thousand deep, which is exactly what a hostile client sends.
 */
export interface RawSocketIoClient {
  /** Sends the event frame `["<event>",<argsJson>]` with an ack id and resolves with the ack's response. */
  request(event: string, argsJson: string): Promise<unknown>;
  /** Sends the event frame `["<event>",<argsJson>]` without an ack id. */
  emit(event: string, argsJson: string): void;
  /** Whether the connection is still open. */
  isOpen(): boolean;
  /**
   * Stops reading from the socket (the kernel buffers fill, then the server's), while the connection stays
   * open: a slow consumer.
   */
  stopReading(): void;
  close(): void;
}

const openRaw: RawSocketIoClient[] = [];

/** Opens an Engine.IO v4 WebSocket to `url` and connects to the main namespace without auth. */
export async function connectRawSocketIo(url: string): Promise<RawSocketIoClient> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
  const pending = new Map<number, (response: unknown) => void>();
  let nextId = 0;
  const connected = new Promise<void>((resolve, reject) => {
    ws.on('message', (data) => {
      const frame = data.toString();
      if (frame.startsWith('0'))
        ws.send('40'); // Engine.IO open: send the Socket.IO CONNECT
      else if (frame === '2')
        ws.send('3'); // ping → pong
      else if (frame.startsWith('40')) resolve();
      else if (frame.startsWith('44')) reject(new Error(`connect refused: ${frame.slice(2)}`));
      else {
        const ack = /^43(\d+)(\[.*)$/s.exec(frame);
        if (ack) pending.get(Number(ack[1]))?.((JSON.parse(ack[2]!) as unknown[])[0]);
      }
    });
    ws.once('error', reject);
    ws.once('close', (code) => reject(new Error(`closed before connect (${code})`)));
  });
  await withTimeout(connected, 5_000, 'raw Socket.IO connect');
  const client: RawSocketIoClient = {
    request: (event, argsJson) => {
      const id = nextId++;
      const response = new Promise<unknown>((resolve) => pending.set(id, resolve));
      ws.send(`42${id}[${JSON.stringify(event)},${argsJson}]`);
      return withTimeout(response, 5_000, `raw ${event} ack`);
    },
    emit: (event, argsJson) => ws.send(`42[${JSON.stringify(event)},${argsJson}]`),
    isOpen: () => ws.readyState === WebSocket.OPEN,
    stopReading: () => (ws as unknown as { _socket: { pause(): void } })._socket.pause(),
    close: () => ws.terminate(),
  };
  openRaw.push(client);
  return client;
}

/** Closes every raw client the tests opened; call from afterEach. */
export function closeHostileClients(): void {
  for (const c of openRaw.splice(0)) c.close();
}
