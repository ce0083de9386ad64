import {
  type Ack,
  type ChatMessage,
  ChorusError,
  type ClientToServerEvents,
  type PresenceEvent,
  type RoomJoinResult,
  type ServerToClientEvents,
  type SessionInfo,
} from '@chorus/protocol';
import { io, type Socket } from 'socket.io-client';
import { Emitter } from './emitter';
import { isFinal, newClientMsgId, Outbox } from './outbox';
import { RoomSequence } from './room-sequence';
import type { ChorusClient, ChorusClientOptions, ClientEvents, ConnectionState } from './types';
import { LocalTyping, RemoteTypers } from './typing';

type ChorusSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

interface TrackedRoom {
  sequence: RoomSequence;
  /** True until the current connection's join has been acknowledged. */
  joining: boolean;
  /** Messages that arrived while joining, replayed after the join is applied. */
  early: ChatMessage[];
  filling: boolean;
  waiters: { resolve: (r: RoomJoinResult) => void; reject: (e: unknown) => void }[];
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
  const outbox = new Outbox<ChorusSocket>({
    current: () => (live ? socket : undefined),
    send: (s, payload) => request(s, 'message:send', payload),
    wantsRoom: (room) => rooms.has(room),
    retrying: (event) => events.emit('retrying', event),
  });

  let socket: ChorusSocket | undefined;
  let live = false;
  let state: ConnectionState = 'connecting';
  let session: SessionInfo | undefined;
  let urlIndex = 0;
  let attempt = 0;
  let disconnectedAt: number | undefined;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let guestToken = options.guestToken;
  // Typing is best effort: sent only while connected, never queued or retried (a refresh follows anyway).
  const typing = new LocalTyping((room, value) => {
    if (socket && live && rooms.has(room)) request(socket, 'typing', { room, typing: value }).catch(() => {});
  });
  const typers = new RemoteTypers((event) => events.emit('typing', event));

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

  /** The handshake's `auth`: a (fresh, when `token` is a function) user token, or the guest's token and name. */
  async function handshakeAuth(): Promise<Record<string, string>> {
    if (options.token !== undefined) {
      const token = typeof options.token === 'function' ? await options.token() : options.token;
      return { token };
    }
    return {
      ...(options.name ? { name: options.name } : {}),
      ...(guestToken ? { guestToken } : {}),
    };
  }

  function connect(): void {
    const url = options.urls[urlIndex % options.urls.length]!;
    handshakeAuth().then(
      (auth) => {
        if (!closed) open(url, auth);
      },
      (error: unknown) => {
        if (closed) return;
        events.emit('unauthorized', {
          code: 'UNAUTHORIZED',
          message: `no token: ${(error as Error).message}`,
        });
        retryLater();
      },
    );
  }

  function open(url: string, auth: Record<string, string>): void {
    const s: ChorusSocket = io(url, {
      // Keep cookies, so long-polling stays on the gateway that holds the session behind a sticky balancer
      // (socket.io-client in Node keeps them only with this; browsers send same-origin cookies anyway).
      withCredentials: true,
      ...options.socketOptions,
      auth,
      ...(options.transports ? { transports: options.transports } : {}),
      reconnection: false,
      forceNew: true,
      timeout: options.connectTimeoutMs ?? 5_000,
    });
    socket = s;
    s.on('session', (info) => void onSession(s, info));
    s.on('message', (message) => {
      if (s !== socket) return;
      events.emit('raw', { kind: 'message', connection: s.id ?? '', message });
      onMessage(message);
    });
    s.on('dm:opened', (event) => {
      if (s === socket) events.emit('dm', event);
    });
    s.on('presence', (event) => {
      if (s === socket) onPresence(event);
    });
    // Several users came or went at once (a mass reconnect): told to the app one user at a time, as ever.
    s.on('presence:batch', ({ room, joined, left }) => {
      if (s !== socket) return;
      for (const user of left) onPresence({ room, user, state: 'left' });
      for (const user of joined) onPresence({ room, user, state: 'joined' });
    });
    s.on('typing', (event) => {
      // Another tab of this user typing is not someone else typing.
      if (s === socket && rooms.has(event.room) && event.user.id !== session?.user.id) typers.heard(event);
    });
    s.on('auth:expired', () => {
      // The server closes the connection next; the reconnect asks `token` for a fresh one and resumes.
      if (s === socket) events.emit('expired', { node: session?.node ?? '' });
    });
    s.on('connect_error', (error: Error & { data?: { code?: string; message?: string } }) => {
      if (s === socket && error.data?.code === 'UNAUTHORIZED') return refused(s, error.data.message ?? '');
      dropped(s);
    });
    // A transport that closes before the handshake completes raises neither of the others.
    // Deferred a tick: a refused handshake closes the manager just before it raises `connect_error`, whose code
    // decides what happens next.
    s.io.on('close', () => queueMicrotask(() => dropped(s)));
    s.on('disconnect', (reason) => {
      if (reason !== 'io client disconnect') dropped(s);
    });
  }

  /**
   * The handshake was refused for its credentials. A guest whose token is no longer good comes back as a new
   * guest; a `token` function is asked again (the old token may have expired); a fixed token that is refused
   * will not become good: the client stops. `unauthorized` tells the application either way.
   */
  function refused(s: ChorusSocket, message: string): void {
    events.emit('unauthorized', { code: 'UNAUTHORIZED', message });
    if (options.token === undefined && guestToken !== undefined) {
      guestToken = undefined;
      dropped(s);
    } else if (typeof options.token === 'function') {
      dropped(s);
    } else {
      client.close();
    }
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
    outbox.connectionLost();
    retryLater();
  }

  function retryLater(): void {
    setState('reconnecting');
    urlIndex += 1;
    attempt += 1;
    const cap = Math.min(delay.max, delay.min * 2 ** Math.min(attempt, 10));
    reconnectTimer = setTimeout(connect, attempt === 1 ? Math.random() * delay.min : Math.random() * cap);
  }

  async function onSession(s: ChorusSocket, info: SessionInfo): Promise<void> {
    if (s !== socket) return;
    session = info;
    // A guest stays the same user across reconnects (and, if the application keeps it, across reloads).
    if (info.guestToken !== undefined) guestToken = info.guestToken;
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
    // Rooms asked for while the rejoins above were in flight have not been sent yet.
    for (const [room, tracked] of rooms) {
      if (tracked.joining && tracked.waiters.length > 0) {
        joinOn(s, room).catch((error: unknown) => {
          if (!isFinal(error) && s === socket) dropped(s);
        });
      }
    }
    setState('connected');
    if (disconnectedAt !== undefined) {
      events.emit('resumed', { ms: Date.now() - disconnectedAt, node: info.node });
      disconnectedAt = undefined;
    }
    outbox.flush();
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
    if (response.ok) events.emit('raw', { kind: 'join', connection: s.id ?? '', since, result: response });
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

  /** A user came or went: one who left stops typing there. */
  function onPresence(event: PresenceEvent): void {
    if (event.state === 'left') typers.stopped(event.room, event.user.id);
    events.emit('presence', event);
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

  connect();

  const client: ChorusClient = {
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
      typing.clear(room);
      typers.clear(room);
      outbox.dropRoom(room, new ChorusError('NOT_IN_ROOM', `left ${room}`));
      if (socket && live) await request(socket, 'room:leave', { room }).catch(() => undefined);
    },

    send(room, text, sendOptions = {}) {
      if (closed) return Promise.reject(new ChorusError('UNAVAILABLE', 'client closed'));
      typing.set(room, false);
      return outbox.add(room, text, sendOptions.clientMsgId ?? newClientMsgId());
    },

    async history(room, historyOptions = {}) {
      if (!socket || !live) throw new ChorusError('UNAVAILABLE', 'not connected');
      const response = await request(socket, 'history:get', { room, ...historyOptions });
      if (!response.ok) throw new ChorusError(response.error.code, response.error.message);
      return response.messages;
    },

    async openDm(user) {
      if (!socket || !live) throw new ChorusError('UNAVAILABLE', 'not connected');
      const response = await request(socket, 'dm:open', { user });
      if (!response.ok) throw new ChorusError(response.error.code, response.error.message);
      return response.room;
    },

    async rooms() {
      if (!socket || !live) throw new ChorusError('UNAVAILABLE', 'not connected');
      const response = await request(socket, 'rooms:list', {});
      if (!response.ok) throw new ChorusError(response.error.code, response.error.message);
      return response.rooms;
    },

    typing(room, value) {
      if (!closed) typing.set(room, value);
    },

    typingIn: (room) => typers.in(room),

    on: (event, handler) => events.on(event, handler),

    pending: () => outbox.size,

    close() {
      if (closed) return;
      closed = true;
      clearTimeout(reconnectTimer);
      socket?.disconnect();
      socket = undefined;
      live = false;
      typing.clear();
      typers.clear();
      outbox.rejectAll(new ChorusError('UNAVAILABLE', 'client closed'));
      for (const room of rooms.values()) {
        for (const w of room.waiters.splice(0)) w.reject(new ChorusError('UNAVAILABLE', 'client closed'));
      }
      setState('closed');
    },
  };
  return client;
}
