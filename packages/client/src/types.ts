import type {
  ChatMessage,
  ErrorCode,
  Position,
  PresenceEvent,
  RoomJoinResult,
  RoomSummary,
  SessionInfo,
  TypingEvent,
  User,
} from '@chorus/protocol';
import type { ManagerOptions, SocketOptions } from 'socket.io-client';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface ChorusClientOptions {
  /** Gateway (or load balancer) URLs. The client connects to one and moves to the next on every reconnect. */
  urls: string[];
  /**
   * A signed-in user's JWT, or a function that returns one (called before every connection, so it can fetch a
   * fresh token: when one expires the server closes the connection and the client reconnects with a new one,
   * resuming every room and resending what was pending). Without it the client connects as a guest.
   */
  token?: string | (() => string | Promise<string>);
  /**
   * A guest's token from an earlier `session` (`session.guestToken`), to be the same guest again, e.g. after a
   * page reload. The client keeps the newest one itself across reconnects.
   */
  guestToken?: string;
  /** A guest's display name (a signed-in user's comes from their token). */
  name?: string;
  transports?: ('websocket' | 'polling')[];
  /** How long one request waits for its ack before it is retried (sends) or fails (others). Default 5000 ms. */
  ackTimeoutMs?: number;
  /** How long one connection attempt may take before the next URL is tried. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Reconnect delay bounds; each attempt waits a random time up to an exponentially growing cap. */
  reconnectDelayMs?: { min: number; max: number };
  /**
   * Extra socket.io-client options. `withCredentials` defaults to true (cookie stickiness behind a balancer);
   * a browser page on another origin then needs the gateway's `ALLOWED_ORIGINS` to include it.
   */
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
}

/**
 * Room messages as they arrived on the wire, before the client's dedupe, ordering and gap filling: a live
 * `message` event, or the history carried by a `room:join` ack (`since` is the position the join resumed
 * from, absent on a first join). `connection` is the Socket.IO id of the connection they arrived on (the
 * gateway logs it as `socket`); every reconnect gets a new one. Gap reads (`history:get`) are not included.
 */
export type RawArrival =
  | { kind: 'message'; connection: string; message: ChatMessage }
  | { kind: 'join'; connection: string; since: Position | undefined; result: RoomJoinResult };

export interface ClientEvents {
  [event: string]: (...args: never[]) => void;
  /** A room message, once per (room, seq), in seq order, gaps filled. */
  message: (message: ChatMessage) => void;
  presence: (event: PresenceEvent) => void;
  /** `user` opened a direct conversation with you: `join(room)` to read and answer it (see `openDm`). */
  dm: (event: { room: string; user: User }) => void;
  /**
   * Someone else in a joined room started typing (`typing: true`) or stopped (`typing: false`). Only changes
   * are reported, and the client expires them itself: a typer not heard from for `LIMITS.typingTtlMs`, or who
   * left the room, is reported stopped. {@link ChorusClient.typingIn} lists who is typing now.
   */
  typing: (event: TypingEvent) => void;
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
  /** The user's token expired; the client reconnects with a fresh one from `token` (when it is a function). */
  expired: (event: { node: string }) => void;
  /**
   * A handshake was refused for its credentials (`message` says which check failed). With a fixed `token` the
   * client then closes; with a `token` function it asks for a new one and tries again; a guest whose guest token
   * is refused comes back as a new guest.
   */
  unauthorized: (event: { code: 'UNAUTHORIZED'; message: string }) => void;
  /** After a reconnect every room is rejoined and caught up; `ms` counts from the disconnect. */
  resumed: (event: { ms: number; node: string }) => void;
  /**
   * Diagnostics: every arrival of room messages on the current connection, before dedupe (see
   * {@link RawArrival}). Applications want `message`; this is for tracing what a gateway really sent.
   *
   * @example
   * client.on('raw', (a) => {
   *   if (a.kind === 'message') console.debug(a.connection, a.message.room, a.message.seq);
   * });
   */
  raw: (arrival: RawArrival) => void;
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
  /** The direct-message room of this user and `user` (a user id); `join` it like any room. */
  openDm(user: string): Promise<string>;
  rooms(): Promise<RoomSummary[]>;
  /**
   * Tells the room whether this user is typing. Call it with `true` on every keystroke (cheap: the client
   * sends at once, then refreshes every `LIMITS.typingRefreshMs` while keystrokes keep coming, and says
   * `false` after `LIMITS.typingTtlMs` without one) and with `false` when the input is cleared; `send` stops it
   * too. Best effort: nothing is sent while disconnected.
   *
   * @example
   * input.addEventListener('input', () => client.typing('lobby', input.value !== ''));
   */
  typing(room: string, typing: boolean): void;
  /** Who else is typing in `room` now (see the `typing` event). */
  typingIn(room: string): User[];
  on<E extends keyof ClientEvents>(event: E, handler: ClientEvents[E]): () => void;
  /** Unacknowledged sends still in the outbox. */
  pending(): number;
  close(): void;
}
