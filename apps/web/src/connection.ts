import type {
  Ack,
  AckError,
  ClientToServerEvents,
  MessageSendResult,
  PresenceEvent,
  RoomJoinResult,
  ServerToClientEvents,
  User,
} from '@chorus/protocol';
import { io, type Socket } from 'socket.io-client';
import { type SyncResult, Timeline } from './timeline';

type ChatSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const ACK_TIMEOUT_MS = 10_000;
const JOIN_RETRY_MS = 2_000;

export type ConnectionState =
  | { kind: 'connecting' }
  | { kind: 'connected'; node: string }
  | { kind: 'reconnecting' }
  | { kind: 'disconnected'; reason?: string };

/** What a chat session reports to the page. */
export interface ChatListener {
  state(state: ConnectionState): void;
  /** Whether the room is joined, i.e. whether sending makes sense. */
  joined(joined: boolean): void;
  messages(change: SyncResult): void;
  members(members: User[]): void;
  /** A problem worth showing that is not the answer to a send. */
  problem(text: string): void;
}

export interface ChatSession {
  readonly room: string;
  /** Sends `text`; resolves with the error when the server refused it or did not answer. */
  send(text: string): Promise<AckError | undefined>;
  /** Whether `user` is this page (each reconnection gets a new user id). */
  isOwn(user: User): boolean;
  close(): void;
}

/** `message` (CODE), plus the first schema issue when there is one. */
export function describeError(error: AckError): string {
  const issue = error.details?.[0];
  return `${error.message}${issue ? ` (${issue.path}: ${issue.message})` : ''} [${error.code}]`;
}

/**
 * Connects to the gateway that served the page and stays in `room`: rejoins after every reconnection from
 * the last seq shown, and falls back to the fresh history when the server cannot continue from there.
 */
export function openChat(options: { name: string; room: string }, listener: ChatListener): ChatSession {
  const { room } = options;
  // Same origin as the page. WebSocket first: behind a load balancer without sticky sessions long-polling
  // cannot work, and tryAllTransports still falls back to it where WebSockets are blocked.
  const socket: ChatSocket = io({
    auth: { name: options.name },
    transports: ['websocket', 'polling'],
    tryAllTransports: true,
    reconnectionDelay: 500,
    reconnectionDelayMax: 5_000,
  });
  const timeline = new Timeline();
  const members = new Map<string, User>();
  const ownIds = new Set<string>();
  let heldPresence: PresenceEvent[] = [];
  let joining = false;
  let joined = false;
  let generation = 0;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const setJoined = (value: boolean) => {
    joined = value;
    listener.joined(value);
  };

  const later = (fn: () => void, ms: number) => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };

  const publishMembers = () =>
    listener.members([...members.values()].sort((a, b) => a.name.localeCompare(b.name)));

  const applyPresence = (event: PresenceEvent) => {
    if (event.state === 'joined') members.set(event.user.id, event.user);
    else members.delete(event.user.id);
  };

  async function join(): Promise<void> {
    const current = ++generation;
    const epoch = timeline.epoch;
    const since = epoch === undefined ? undefined : { epoch, seq: timeline.lastSeq };
    joining = true;
    heldPresence = [];
    setJoined(false);
    timeline.beginSync();
    let response: Ack<RoomJoinResult>;
    try {
      response = await socket
        .timeout(ACK_TIMEOUT_MS)
        .emitWithAck('room:join', since ? { room, since } : { room });
    } catch {
      response = { ok: false, error: { code: 'UNAVAILABLE', message: 'the server did not answer' } };
    }
    // A reconnection started another join meanwhile; this answer belongs to a dead connection.
    if (closed || current !== generation) return;
    joining = false;
    const presence = heldPresence;
    heldPresence = [];

    if (!response.ok) {
      const added = timeline.abortSync();
      if (added.length > 0) listener.messages({ reset: false, added });
      for (const event of presence) applyPresence(event);
      publishMembers();
      listener.problem(`Could not join ${room}: ${describeError(response.error)}`);
      // Worth retrying only when the cluster may recover by itself (Redis briefly unreachable, say).
      const transient = response.error.code === 'UNAVAILABLE' || response.error.code === 'INTERNAL';
      if (transient) {
        later(() => {
          if (current === generation) void join();
        }, JOIN_RETRY_MS);
      }
      return;
    }
    listener.messages(
      timeline.sync(response.epoch, response.history, { replace: response.recovered !== true }),
    );
    members.clear();
    for (const user of response.members) members.set(user.id, user);
    for (const event of presence) applyPresence(event);
    publishMembers();
    setJoined(true);
  }

  socket.on('session', ({ user, node }) => {
    ownIds.add(user.id);
    listener.state({ kind: 'connected', node });
    void join();
  });

  socket.on('message', (message) => {
    if (message.room !== room) return;
    const outcome = timeline.add(message);
    if (outcome === 'added') listener.messages({ reset: false, added: [message] });
    else if (outcome === 'resync' && !joining) void join();
  });

  socket.on('presence', (event) => {
    if (event.room !== room) return;
    if (joining) {
      heldPresence.push(event);
      return;
    }
    applyPresence(event);
    publishMembers();
  });

  socket.on('disconnect', (reason) => {
    generation++;
    joining = false;
    setJoined(false);
    if (closed) {
      listener.state({ kind: 'disconnected' });
      return;
    }
    listener.state({ kind: 'reconnecting' });
    // A server that disconnects us on purpose (e.g. a gateway draining for a deploy) does not trigger the
    // client's automatic reconnection; come back after a short random pause so a whole room does not return
    // in the same millisecond.
    if (reason === 'io server disconnect') later(() => socket.connect(), 250 + Math.random() * 750);
  });

  socket.on('connect_error', (error) => {
    if (socket.active) {
      listener.state({ kind: 'reconnecting' });
      return;
    }
    // Refused in the handshake (e.g. an invalid name): retrying would not help.
    const data = (error as Error & { data?: { message?: unknown } }).data;
    const reason = typeof data?.message === 'string' ? data.message : error.message;
    listener.state({ kind: 'disconnected', reason });
  });

  listener.state({ kind: 'connecting' });

  return {
    room,
    async send(text) {
      if (!joined || !socket.connected) return { code: 'UNAVAILABLE', message: 'not connected' };
      let response: Ack<MessageSendResult>;
      try {
        response = await socket
          .timeout(ACK_TIMEOUT_MS)
          .emitWithAck('message:send', { room, text, clientMsgId: newClientMsgId() });
      } catch {
        return {
          code: 'UNAVAILABLE',
          message: 'no answer from the server; the message may not have been sent',
        };
      }
      if (!response.ok) return response.error;
      // Show our own message at once; the live copy that follows is a duplicate and is dropped.
      if (timeline.add(response.message) === 'added') {
        listener.messages({ reset: false, added: [response.message] });
      }
      return undefined;
    },
    isOwn: (user) => ownIds.has(user.id),
    close() {
      closed = true;
      clearTimeout(timer);
      socket.disconnect();
    },
  };
}

/** A fresh idempotency key. `crypto.randomUUID` exists only in secure contexts (HTTPS or localhost). */
function newClientMsgId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
