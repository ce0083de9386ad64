import type {
  Ack,
  ChatMessage,
  ClientToServerEvents,
  PresenceEvent,
  ServerToClientEvents,
  SessionInfo,
} from '@chorus/protocol';
import { io, type Socket } from 'socket.io-client';
import { WebSocket } from 'ws';
import { eventually, withTimeout } from './wait';

export type ChorusSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

type ResultOf<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>[1] extends (
  response: infer R,
) => void
  ? R
  : never;

/** A Socket.IO test client that records what it receives. */
export interface TestClient {
  socket: ChorusSocket;
  session: SessionInfo;
  messages: ChatMessage[];
  /** Presence changes heard, one per user, whether they came as `presence` or in a `presence:batch`. */
  presence: PresenceEvent[];
  /** Presence frames heard (`presence` and `presence:batch` events). */
  presenceFrames: number;
  /** Emits `event` and resolves with its ack (rejects after 5 s without one). */
  request<E extends keyof ClientToServerEvents>(
    event: E,
    payload: Parameters<ClientToServerEvents[E]>[0],
  ): Promise<ResultOf<E>>;
  /** Like `request`, but asserts `ok: true` and returns the result. */
  ok<E extends keyof ClientToServerEvents>(
    event: E,
    payload: Parameters<ClientToServerEvents[E]>[0],
  ): Promise<Extract<ResultOf<E>, { ok: true }>>;
  /** Messages received in `room`, in arrival order. */
  inRoom(room: string): ChatMessage[];
  close(): void;
}

const open: TestClient[] = [];

export interface ConnectOptions {
  name?: string;
  transports?: ('websocket' | 'polling')[];
  auth?: Record<string, unknown>;
  /** Headers of the handshake, e.g. `x-forwarded-for` as a balancer would add it. */
  extraHeaders?: Record<string, string>;
}

/** Connects to `url` and waits for the `session` event. */
export async function connectClient(url: string, options: ConnectOptions = {}): Promise<TestClient> {
  const socket: ChorusSocket = io(url, {
    auth: options.auth ?? (options.name ? { name: options.name } : {}),
    transports: options.transports ?? ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: 5_000,
    ...(options.extraHeaders ? { extraHeaders: options.extraHeaders } : {}),
  });
  const messages: ChatMessage[] = [];
  const presence: PresenceEvent[] = [];
  socket.on('message', (m) => messages.push(m));
  let presenceFrames = 0;
  socket.on('presence', (p) => {
    presenceFrames += 1;
    presence.push(p);
  });
  socket.on('presence:batch', ({ room, joined, left }) => {
    presenceFrames += 1;
    for (const user of left) presence.push({ room, user, state: 'left' });
    for (const user of joined) presence.push({ room, user, state: 'joined' });
  });
  const session = await withTimeout(
    new Promise<SessionInfo>((resolve, reject) => {
      socket.once('session', resolve);
      socket.once('connect_error', reject);
    }),
    5_000,
    `connect to ${url}`,
  );
  const request: TestClient['request'] = (event, payload) =>
    withTimeout(
      // biome-ignore lint/suspicious/noExplicitAny: the event map is generic here; callers are typed
      (socket.timeout(5_000) as any).emitWithAck(event, payload),
      6_000,
      `${String(event)} ack`,
    );
  const client: TestClient = {
    socket,
    session,
    messages,
    presence,
    get presenceFrames() {
      return presenceFrames;
    },
    request,
    ok: async (event, payload) => {
      const response = (await request(event, payload)) as Ack;
      if (!response.ok)
        throw new Error(`${String(event)} failed: ${response.error.code} ${response.error.message}`);
      return response as never;
    },
    inRoom: (room) => messages.filter((m) => m.room === room),
    close: () => socket.disconnect(),
  };
  open.push(client);
  return client;
}

/** A client of the seed's plain WebSocket protocol. */
export interface PlainClient {
  ws: WebSocket;
  lines: string[];
  send(text: string): void;
  close(): void;
}

export async function connectPlain(
  url: string,
  query: { room?: string; name?: string },
): Promise<PlainClient> {
  const target = new URL('/ws', url.replace(/^http/, 'ws'));
  if (query.room !== undefined) target.searchParams.set('room', query.room);
  if (query.name !== undefined) target.searchParams.set('name', query.name);
  const { ws, lines } = await openPlainSocket(target);
  const client: PlainClient = { ws, lines, send: (text) => ws.send(text), close: () => ws.close() };
  openPlain.push(client);
  return client;
}

const openPlain: PlainClient[] = [];

/**
 * Opens a plain WebSocket to `target` (any path: `/ws?…`, or the seed page's bare `ws://host:port`) and records
 * the text lines it receives; rejects with `HTTP <status>` when the upgrade is refused. The caller closes it.
 */
export async function openPlainSocket(target: string | URL): Promise<{ ws: WebSocket; lines: string[] }> {
  const ws = new WebSocket(target);
  const lines: string[] = [];
  ws.on('message', (data) => lines.push(data.toString()));
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    }),
    5_000,
    `plain websocket open (${String(target)})`,
  );
  return { ws, lines };
}

/** Closes every client the tests opened; call from afterEach. */
export function closeAllClients(): void {
  for (const c of open.splice(0)) c.close();
  for (const c of openPlain.splice(0)) c.ws.terminate();
}

/**
 * Every (room, epoch, seq) that reached `client`'s socket more than once, as `room epoch:seq ×n`. A test
 * client has one connection and no dedupe, so this is what its gateway sent twice.
 */
export function repeatedMessages(client: TestClient): string[] {
  const times = new Map<string, number>();
  for (const m of client.messages) {
    const key = `${m.room} ${m.epoch}:${m.seq}`;
    times.set(key, (times.get(key) ?? 0) + 1);
  }
  return [...times].filter(([, n]) => n > 1).map(([key, n]) => `${key} ×${n}`);
}

/** Waits until `client` has `count` messages in `room`. */
export function waitForMessages(client: TestClient, room: string, count: number, timeoutMs = 5_000) {
  return eventually(
    () => {
      const got = client.inRoom(room);
      if (got.length < count)
        throw new Error(`${client.session.user.name} has ${got.length}/${count} messages in ${room}`);
      return got;
    },
    { timeoutMs },
  );
}
