import {
  type Ack,
  type ChatMessage,
  ChorusError,
  type ClientToServerEvents,
  type ErrorCode,
  type PresenceEvent,
  type RoomJoinResult,
  type RoomSummary,
  type ServerToClientEvents,
  type SessionInfo,
  type User,
} from '@chorus/protocol';
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { Emitter } from './emitter';
import { RoomSequence } from './room-sequence';

type ChorusSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface ChorusClientOptions {
  /** Gateway (or load balancer) URLs. The client connects to one and moves to the next on every reconnect. */
  urls: string[];
  /** Display name sent in the handshake. */
  name?: string;
  transports?: ('websocket' | 'polling')[];
  /** How long one request waits for its ack before it is retried (sends) or fails (others). Default 5000 ms. */
  ackTimeoutMs?: number;
  /** How long one connection attempt may take before the next URL is tried. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Reconnect delay bounds; each attempt waits a random time up to an exponentially growing cap. */
  reconnectDelayMs?: { min: number; max: number };
  /** Extra socket.io-client options, e.g. `{ withCredentials: true }` for cookie stickiness behind a balancer. */
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
}

export interface ClientEvents {
  [event: string]: (...args: never[]) => void;
  /** A room message, once per (room, seq), in seq order, gaps filled. */
  message: (message: ChatMessage) => void;
  presence: (event: PresenceEvent) => void;
  /** The room's history could not be resumed (lost or trimmed): replace what is shown with `history`. */
  reset: (event: { room: string; epoch: string; history: ChatMessage[] }) => void;
  /** `room` was joined: the first time and again after every reconnect. `members` replaces any list kept. */
  joined: (event: { room: string; members: User[] }) => void;
  /**
   * A send goes out again with the same `clientMsgId` after the server refused it for a passing reason (`code`,
   * e.g. `RATE_LIMITED`) or gave no answer (`code` absent: timeout or lost connection). Its promise stays pending.
   */
  retrying: (event: { room: string; clientMsgId: string; attempts: number; code?: ErrorCode }) => void;
  state: (state: ConnectionState) => void;
  session: (session: SessionInfo) => void;
  /** After a reconnect every room is rejoined and caught up; `ms` counts from the disconnect. */
  resumed: (event: { ms: number; node: string }) => void;
}

export interface SendOptions {
  /** Idempotency key; generated when omitted. A retry with the same key is stored once. */
  clientMsgId?: string;
}

/** The Chorus client. Create one with {@link createChorusClient}. */
export interface ChorusClient {
  readonly state: ConnectionState;
  readonly session: SessionInfo | undefined;
  /** Joins `room` (once connected) and keeps it joined across reconnects, resuming from the last seq seen. */
  join(room: string): Promise<RoomJoinResult>;
  leave(room: string): Promise<void>;
  /**
   * Sends through the outbox: retried with the same `clientMsgId` after timeouts, reconnects and
   * `UNAVAILABLE`, until the server acknowledges it. Rejects with a `ChorusError` for final errors
   * (e.g. `INVALID_PAYLOAD`) or when the client is closed.
   */
  send(room: string, text: string, options?: SendOptions): Promise<ChatMessage>;
  history(room: string, options?: { before?: number; limit?: number }): Promise<ChatMessage[]>;
  rooms(): Promise<RoomSummary[]>;
  on<E extends keyof ClientEvents>(event: E, handler: ClientEvents[E]): () => void;
  /** Unacknowledged sends still in the outbox. */
  pending(): number;
  close(): void;
}

const RETRYABLE: ReadonlySet<ErrorCode> = new Set(['UNAVAILABLE', 'INTERNAL', 'RATE_LIMITED', 'NOT_IN_ROOM']);

interface TrackedRoom {
  sequence: RoomSequence;
  /** True until the current connection's join has been acknowledged. */
  joining: boolean;
  /** Messages that arrived while joining, replayed after the join is applied. */
  early: ChatMessage[];
  filling: boolean;
  waiters: { resolve: (r: RoomJoinResult) => void; reject: (e: unknown) => void }[];
}

interface OutboxEntry {
  room: string;
  text: string;
  clientMsgId: string;
  resolve: (message: ChatMessage) => void;
  reject: (error: unknown) => void;
  /** The socket of the attempt in flight, if any. */
  inFlightOn: ChorusSocket | undefined;
  attempts: number;
  retry: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Connects to a Chorus cluster and keeps the guarantees of the protocol on the client side: rooms are
 * rejoined with `since` after every reconnect, sends are retried idempotently, and messages reach the
 * application once per `(room, seq)`, in order.
 *
 * @example
 * const client = createChorusClient({ urls: ['http://localhost:3000'], name: 'alice' });
 * client.on('message', (m) => console.log(`${m.user.name}: ${m.text}`));
 * await client.join('lobby');
 * await client.send('lobby', 'hello');
 */
export function createChorusClient(options: ChorusClientOptions): ChorusClient {
  if (options.urls.length === 0) throw new Error('createChorusClient needs at least one URL');
  const ackTimeoutMs = options.ackTimeoutMs ?? 5_000;
  const delay = options.reconnectDelayMs ?? { min: 200, max: 5_000 };
  const events = new Emitter<ClientEvents>();
  const rooms = new Map<string, TrackedRoom>();
  const outbox = new Map<string, OutboxEntry>();

  let socket: ChorusSocket | undefined;
  let live = false;
  let state: ConnectionState = 'connecting';
  let session: SessionInfo | undefined;
  let urlIndex = 0;
  let attempt = 0;
  let disconnectedAt: number | undefined;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const setState = (next: ConnectionState) => {
    if (state === next) return;
    state = next;
    events.emit('state', next);
  };

  function request<E extends keyof ClientToServerEvents>(
    s: ChorusSocket,
    event: E,
    payload: Parameters<ClientToServerEvents[E]>[0],
  ): Promise<Parameters<Parameters<ClientToServerEvents[E]>[1]>[0]> {
    // biome-ignore lint/suspicious/noExplicitAny: socket.io's emitWithAck typing does not follow a generic event
    return (s.timeout(ackTimeoutMs) as any).emitWithAck(event, payload);
  }

  function connect(): void {
    const url = options.urls[urlIndex % options.urls.length]!;
    const s: ChorusSocket = io(url, {
      ...options.socketOptions,
      auth: options.name ? { name: options.name } : {},
      ...(options.transports ? { transports: options.transports } : {}),
      reconnection: false,
      forceNew: true,
      timeout: options.connectTimeoutMs ?? 5_000,
    });
    socket = s;
    s.on('session', (info) => void onSession(s, info));
    s.on('message', (message) => {
      if (s === socket) onMessage(message);
    });
    s.on('presence', (event) => {
      if (s === socket) events.emit('presence', event);
    });
    s.on('connect_error', () => dropped(s));
    // A transport that closes before the handshake completes raises neither of the others.
    s.io.on('close', () => dropped(s));
    s.on('disconnect', (reason) => {
      if (reason !== 'io client disconnect') dropped(s);
    });
  }

  /** The connection is gone (or never came): try the next URL after a jittered, growing delay. */
  function dropped(s: ChorusSocket): void {
    if (closed || s !== socket) return;
    socket = undefined;
    s.io.removeAllListeners('close');
    s.removeAllListeners();
    s.disconnect();
    live = false;
    disconnectedAt ??= Date.now();
    for (const room of rooms.values()) room.joining = true;
    for (const entry of outbox.values()) entry.inFlightOn = undefined;
    setState('reconnecting');
    urlIndex += 1;
    attempt += 1;
    const cap = Math.min(delay.max, delay.min * 2 ** Math.min(attempt, 10));
    reconnectTimer = setTimeout(connect, attempt === 1 ? Math.random() * delay.min : Math.random() * cap);
  }

  async function onSession(s: ChorusSocket, info: SessionInfo): Promise<void> {
    if (s !== socket) return;
    session = info;
    events.emit('session', info);
    const results = await Promise.allSettled([...rooms.keys()].map((room) => joinOn(s, room)));
    if (s !== socket) return;
    if (results.some((r) => r.status === 'rejected' && !isFinal(r.reason))) {
      // A rejoin failed for a passing reason (e.g. Redis unavailable): start over on a fresh connection.
      dropped(s);
      return;
    }
    attempt = 0;
    live = true;
    setState('connected');
    if (disconnectedAt !== undefined) {
      events.emit('resumed', { ms: Date.now() - disconnectedAt, node: info.node });
      disconnectedAt = undefined;
    }
    for (const entry of outbox.values()) transmit(entry);
  }

  async function joinOn(s: ChorusSocket, room: string): Promise<RoomJoinResult> {
    const tracked = rooms.get(room);
    if (!tracked) throw new ChorusError('NOT_IN_ROOM', `not joining ${room}`);
    tracked.joining = true;
    const { epoch, last } = tracked.sequence;
    const since = epoch !== undefined ? { epoch, seq: last } : undefined;
    let response: Ack<RoomJoinResult>;
    try {
      response = await request(s, 'room:join', since ? { room, since } : { room });
    } catch {
      throw new ChorusError('UNAVAILABLE', `no answer to room:join ${room}`);
    }
    if (s !== socket || rooms.get(room) !== tracked)
      throw new ChorusError('UNAVAILABLE', 'connection changed');
    if (!response.ok) {
      const error = new ChorusError(response.error.code, response.error.message);
      if (isFinal(error)) {
        rooms.delete(room);
        for (const w of tracked.waiters.splice(0)) w.reject(error);
      }
      throw error;
    }
    applyJoin(room, tracked, response, since !== undefined);
    return response;
  }

  function applyJoin(room: string, tracked: TrackedRoom, result: RoomJoinResult, resuming: boolean): void {
    const last = result.history.at(-1)?.seq;
    if (resuming && result.recovered) {
      tracked.joining = false;
      for (const message of result.history) onMessage(message);
    } else {
      tracked.sequence.reset(result.epoch, last ?? 0);
      tracked.joining = false;
      if (resuming) events.emit('reset', { room, epoch: result.epoch, history: result.history });
    }
    events.emit('joined', { room, members: result.members });
    for (const message of tracked.early.splice(0)) onMessage(message);
    for (const w of tracked.waiters.splice(0)) w.resolve(result);
  }

  function onMessage(message: ChatMessage): void {
    const tracked = rooms.get(message.room);
    if (!tracked) return;
    if (tracked.joining) {
      tracked.early.push(message);
      return;
    }
    const arrival = tracked.sequence.accept(message);
    if (arrival.kind === 'deliver') for (const m of arrival.messages) events.emit('message', m);
    else if (arrival.kind === 'gap') void fillGap(message.room, tracked);
    else if (arrival.kind === 'epoch-changed' && socket && live) void rejoin(message.room);
  }

  /** Reads the missing seqs back with `history:get`; when they are gone, resumes the room instead. */
  async function fillGap(room: string, tracked: TrackedRoom): Promise<void> {
    if (tracked.filling) return;
    tracked.filling = true;
    try {
      for (let missing = tracked.sequence.missing(); missing; missing = tracked.sequence.missing()) {
        const s = socket;
        if (!s || !live) return;
        const limit = Math.min(100, missing.to - missing.from + 1);
        const response = await request(s, 'history:get', { room, before: missing.from + limit, limit });
        if (!response.ok) return;
        const before = tracked.sequence.last;
        for (const message of response.messages) onMessage(message);
        if (tracked.sequence.last === before) {
          void rejoin(room);
          return;
        }
      }
    } catch {
      // No answer: the reconnect that follows resumes the room.
    } finally {
      tracked.filling = false;
    }
  }

  async function rejoin(room: string): Promise<void> {
    const s = socket;
    if (!s) return;
    await joinOn(s, room).catch(() => {
      if (s === socket) dropped(s);
    });
  }

  function transmit(entry: OutboxEntry): void {
    const s = socket;
    if (!s || !live || entry.inFlightOn === s || !outbox.has(entry.clientMsgId)) return;
    clearTimeout(entry.retry);
    entry.inFlightOn = s;
    entry.attempts += 1;
    const retryLater = (code?: ErrorCode) => {
      if (entry.inFlightOn === s) entry.inFlightOn = undefined;
      clearTimeout(entry.retry);
      events.emit('retrying', {
        room: entry.room,
        clientMsgId: entry.clientMsgId,
        attempts: entry.attempts,
        ...(code ? { code } : {}),
      });
      const wait = Math.min(5_000, 100 * 2 ** Math.min(entry.attempts, 6)) * (0.5 + Math.random() / 2);
      entry.retry = setTimeout(() => transmit(entry), wait);
    };
    request(s, 'message:send', { room: entry.room, text: entry.text, clientMsgId: entry.clientMsgId }).then(
      (response) => {
        if (!outbox.has(entry.clientMsgId)) return;
        if (response.ok) {
          outbox.delete(entry.clientMsgId);
          clearTimeout(entry.retry);
          entry.resolve(response.message);
        } else if (RETRYABLE.has(response.error.code) && rooms.has(entry.room)) {
          retryLater(response.error.code);
        } else {
          outbox.delete(entry.clientMsgId);
          const { code, message, details } = response.error;
          entry.reject(new ChorusError(code, message, details));
        }
      },
      () => {
        if (outbox.has(entry.clientMsgId)) retryLater();
      },
    );
  }

  connect();

  return {
    get state() {
      return state;
    },
    get session() {
      return session;
    },

    join(room) {
      let tracked = rooms.get(room);
      if (!tracked) {
        tracked = { sequence: new RoomSequence(), joining: true, early: [], filling: false, waiters: [] };
        rooms.set(room, tracked);
      }
      const t = tracked;
      return new Promise<RoomJoinResult>((resolve, reject) => {
        t.waiters.push({ resolve, reject });
        if (socket && live) {
          joinOn(socket, room).catch((error: unknown) => {
            // Passing failures are retried by the next reconnect; final ones were already rejected.
            if (!isFinal(error) && socket) dropped(socket);
          });
        }
      });
    },

    async leave(room) {
      rooms.delete(room);
      for (const [id, entry] of outbox) {
        if (entry.room !== room) continue;
        outbox.delete(id);
        entry.reject(new ChorusError('NOT_IN_ROOM', `left ${room}`));
      }
      if (socket && live) await request(socket, 'room:leave', { room }).catch(() => undefined);
    },

    send(room, text, sendOptions = {}) {
      if (closed) return Promise.reject(new ChorusError('UNAVAILABLE', 'client closed'));
      const clientMsgId = sendOptions.clientMsgId ?? newClientMsgId();
      return new Promise<ChatMessage>((resolve, reject) => {
        const entry: OutboxEntry = {
          room,
          text,
          clientMsgId,
          resolve,
          reject,
          inFlightOn: undefined,
          attempts: 0,
          retry: undefined,
        };
        outbox.set(clientMsgId, entry);
        transmit(entry);
      });
    },

    async history(room, historyOptions = {}) {
      if (!socket || !live) throw new ChorusError('UNAVAILABLE', 'not connected');
      const response = await request(socket, 'history:get', { room, ...historyOptions });
      if (!response.ok) throw new ChorusError(response.error.code, response.error.message);
      return response.messages;
    },

    async rooms() {
      if (!socket || !live) throw new ChorusError('UNAVAILABLE', 'not connected');
      const response = await request(socket, 'rooms:list', {});
      if (!response.ok) throw new ChorusError(response.error.code, response.error.message);
      return response.rooms;
    },

    on: (event, handler) => events.on(event, handler),

    pending: () => outbox.size,

    close() {
      if (closed) return;
      closed = true;
      clearTimeout(reconnectTimer);
      socket?.disconnect();
      socket = undefined;
      live = false;
      for (const entry of outbox.values()) {
        clearTimeout(entry.retry);
        entry.reject(new ChorusError('UNAVAILABLE', 'client closed'));
      }
      outbox.clear();
      for (const room of rooms.values()) {
        for (const w of room.waiters.splice(0)) w.reject(new ChorusError('UNAVAILABLE', 'client closed'));
      }
      setState('closed');
    },
  };
}

function isFinal(error: unknown): boolean {
  return error instanceof ChorusError && !RETRYABLE.has(error.code);
}

/** A unique idempotency key; works where `crypto.randomUUID` is missing (plain-HTTP browser pages). */
export function newClientMsgId(): string {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  const bytes = new Uint8Array(16);
  c.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
