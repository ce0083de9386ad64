import type { AckError } from './errors';
import type {
  DmOpenPayload,
  HistoryGetPayload,
  MessageSendPayload,
  RoomJoinPayload,
  RoomLeavePayload,
  RoomsListPayload,
  TypingPayload,
} from './schemas';

/**
 * A person. Signed-in users' `id` is their token's `sub` and `name` its `name` claim; guests get a server-made
 * id (`guest-…`) that their `guestToken` keeps across reconnects, and `guest: true`. Two users may share a
 * name; their ids tell them apart.
 */
export interface User {
  id: string;
  name: string;
  /** Present (and true) for guests: not signed in, name chosen freely. */
  guest?: true;
}

/** Exactly the fields of a `User` (what is stored and sent, whatever else the object carries). */
export function toUser(user: User): User {
  return user.guest ? { id: user.id, name: user.name, guest: true } : { id: user.id, name: user.name };
}

/** One chat message as stored and delivered. */
export interface ChatMessage {
  /** Unique message id (`<epoch>:<seq>` within its room). */
  id: string;
  room: string;
  /** Changes only when the room's history was lost (e.g. Redis restarted without persistence). */
  epoch: string;
  /** Per room, cluster-wide, strictly increasing from 1 within an epoch. */
  seq: number;
  user: User;
  text: string;
  /** Server time of the append, in ms since the Unix epoch. */
  ts: number;
  /** The sender's idempotency key, when it gave one. */
  clientMsgId?: string;
}

/** Sent once, right after the connection is accepted. */
export interface SessionInfo {
  user: User;
  /** Id of the gateway instance that holds this connection. */
  node: string;
  /**
   * Guests only: a signed token naming this guest. Keep it (e.g. in `localStorage`) and pass it back as
   * `auth: { guestToken }` on any gateway to be the same user again.
   */
  guestToken?: string;
  /** Signed-in users only: when the token expires (ms since the Unix epoch); the connection is closed then. */
  expiresAt?: number;
}

/**
 * `user` opened a direct conversation with you (`dm:open`): `room` is its room, which you may join. Sent to
 * every connection of the other user, on any gateway; best effort, like presence.
 */
export interface DmOpenedEvent {
  room: string;
  user: User;
}

/** Sent right before the server closes a connection whose token expired: reconnect with a fresh token. */
export interface AuthExpiredEvent {
  message: string;
}

/**
 * A user came into a room (their first connection in it, on any gateway) or left it (their last connection
 * went). A user with several tabs or devices is one member: opening another tab announces nothing.
 */
export interface PresenceEvent {
  room: string;
  user: User;
  state: 'joined' | 'left';
}

/**
 * Several users of one room came or went within its presence window (200 ms), as in a mass reconnect: sent
 * instead of one `presence` event per user, so a storm of n users costs each member a few frames, not n. Each
 * user appears once, with their state at the end of the window; never the receiving connection's own join.
 */
export interface PresenceBatchEvent {
  room: string;
  joined: User[];
  left: User[];
}

/**
 * Someone in the room is typing (`typing: true`) or stopped (`false`). A `true` holds for `LIMITS.typingTtlMs`
 * only: the typer's client repeats it while typing, and a receiver that hears nothing more from that user in
 * that room within the TTL treats them as stopped (the SDK emits `typing: false` for it). Not sent in rooms
 * bigger than the gateway's `TYPING_MAX_ROOM_SIZE`.
 */
export interface TypingEvent {
  room: string;
  user: User;
  typing: boolean;
}

export interface RoomSummary {
  room: string;
  /** Users in the room now, across the cluster. */
  members: number;
}

/**
 * Every ack: `{ ok: true, ...result }` or `{ ok: false, error }`.
 *
 * @example
 * socket.emit('message:send', { room: 'lobby', text: 'hi' }, (res) => {
 *   if (res.ok) console.log(res.message.seq);
 *   else console.error(res.error.code);
 * });
 */
export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: AckError };
export type AckCallback<T extends object = object> = (response: Ack<T>) => void;

export interface RoomJoinResult {
  room: string;
  /** The users in the room now, across the cluster: all of them, or a sample of 500 in a bigger room. */
  members: User[];
  /** How many users are in the room (may count members of a gateway that just died, for a few seconds). */
  memberCount: number;
  /** The latest messages (at most 50), oldest first; or, when resuming, every message after `since.seq`. */
  history: ChatMessage[];
  /** The room's current epoch. */
  epoch: string;
  /** Present when the join carried `since`: whether `history` continues exactly from that position. */
  recovered?: boolean;
}
export interface MessageSendResult {
  message: ChatMessage;
}
export interface HistoryGetResult {
  messages: ChatMessage[];
}
export interface DmOpenResult {
  /** The direct-message room of the two users, the same whichever of them opens it. */
  room: string;
}
export interface RoomsListResult {
  /** Busiest first, then by name. */
  rooms: RoomSummary[];
  /** Present when more rooms may follow: pass it as `cursor` to read the next page. */
  nextCursor?: number;
}

/** Events a client emits. Every one takes `(payload, ack)`. */
export interface ClientToServerEvents {
  'room:join': (payload: RoomJoinPayload, ack: AckCallback<RoomJoinResult>) => void;
  'room:leave': (payload: RoomLeavePayload, ack: AckCallback) => void;
  'message:send': (payload: MessageSendPayload, ack: AckCallback<MessageSendResult>) => void;
  'history:get': (payload: HistoryGetPayload, ack: AckCallback<HistoryGetResult>) => void;
  'rooms:list': (payload: RoomsListPayload, ack: AckCallback<RoomsListResult>) => void;
  'dm:open': (payload: DmOpenPayload, ack: AckCallback<DmOpenResult>) => void;
  /** Tells the room's other members that this user is (still) typing, or stopped. Must be in the room. */
  typing: (payload: TypingPayload, ack: AckCallback) => void;
}

/** Events the server emits. */
export interface ServerToClientEvents {
  session: (session: SessionInfo) => void;
  message: (message: ChatMessage) => void;
  presence: (event: PresenceEvent) => void;
  'presence:batch': (event: PresenceBatchEvent) => void;
  typing: (event: TypingEvent) => void;
  'auth:expired': (event: AuthExpiredEvent) => void;
  'dm:opened': (event: DmOpenedEvent) => void;
}

/** Events between gateways (through the adapter). */
export type InterServerEvents = Record<never, never>;

/** What a gateway keeps on each socket (`socket.data`). */
export interface SocketData {
  user: User;
  /** Private rooms this user may enter: exact names, or prefixes ending in `*` (a token's `rooms` claim). */
  grants: readonly string[];
  /** When the user's token expires (ms since the Unix epoch); absent for guests. */
  expiresAt?: number;
  /** Guests: the token to hand back on reconnect (sent in `session`). */
  guestToken?: string;
  /** The client's address (behind trusted proxies, from `X-Forwarded-For`), for the per-address limits. */
  address: string;
}

/** The names of every client→server event, for routing and for rejecting unknown ones. */
export const CLIENT_EVENTS = [
  'room:join',
  'room:leave',
  'message:send',
  'history:get',
  'rooms:list',
  'dm:open',
  'typing',
] as const satisfies readonly (keyof ClientToServerEvents)[];

export type ClientEventName = (typeof CLIENT_EVENTS)[number];

const CLIENT_EVENT_NAMES: ReadonlySet<string> = new Set(CLIENT_EVENTS);

/** Whether `name` is a client→server event of this protocol. */
export function isClientEvent(name: string): name is ClientEventName {
  return CLIENT_EVENT_NAMES.has(name);
}

/** Path of the seed-compatible plain WebSocket endpoint: `ws://host/ws?room=lobby&name=alice`. */
export const PLAIN_WS_PATH = '/ws';

/**
 * How a message is shown to plain WebSocket clients, as in the seed: `from <name>: <text>`, always one line.
 * Line breaks and other control characters are shown escaped (`\n`, `\t`, `\u001b`…), so no text can make a
 * frame look like a line from someone else.
 *
 * @example
 * formatPlainLine({ user: { id: 'u1', name: 'bob' }, text: 'hi\nfrom admin: pwned' });
 * // 'from bob: hi\\nfrom admin: pwned' (one line)
 */
export function formatPlainLine(message: Pick<ChatMessage, 'user' | 'text'>): string {
  return `from ${escapePlain(message.user.name)}: ${escapePlain(message.text)}`;
}

const PLAIN_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapePlain(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is escaped
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    return PLAIN_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}
