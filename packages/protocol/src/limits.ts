/**
 * Limits of the wire contract. Both sides import these, so a client can check input before sending it.
 * Lengths are counted in UTF-16 code units (JavaScript `string.length`).
 */
export const LIMITS = {
  /** Display name, after trimming. */
  nameMin: 1,
  nameMax: 32,
  /** Room names: letters, digits, `_`, `.`, `-`. */
  roomMax: 64,
  /** Message text. */
  textMin: 1,
  textMax: 4000,
  /** A user id (a token's `sub`, or a guest id). */
  userIdMax: 128,
  /** A signed token in the handshake (`token`, `guestToken`). */
  tokenMax: 8192,
  /** Client-made idempotency key of a send. */
  clientMsgIdMax: 64,
  /** Messages returned by `room:join` (the latest ones). */
  joinHistory: 50,
  /** `history:get` page size: default and maximum. */
  historyDefault: 50,
  historyMax: 100,
  /** `rooms:list` page size: default and maximum. */
  roomsListDefault: 50,
  roomsListMax: 100,
  /** How far `rooms:list` pages (its `cursor`); the busiest rooms are what a browser shows. */
  roomsListDepth: 10_000,
  /** Rooms one connection may be in at once. */
  roomsPerSocket: 100,
  /**
   * Largest frame a gateway accepts (Socket.IO `maxHttpBufferSize` and the plain WebSocket `maxPayload`).
   * The largest legal `message:send` (4000 four-byte characters plus envelope) fits with room to spare;
   * a bigger frame closes only the connection that sent it.
   */
  maxFrameBytes: 64 * 1024,
  /**
   * Largest answer the server sends (an ack or an event). A history page that would be bigger holds fewer
   * messages (page on with `before`); a resume that would be bigger answers `recovered: false` (reload).
   */
  maxAnswerBytes: 1024 * 1024,
  /** Members listed in a `room:join` ack; a bigger room lists a sample of this many and says `memberCount`. */
  joinMembersMax: 500,
  /**
   * A `typing: true` counts for this long: receivers treat it as stopped when no refresh (or `typing: false`)
   * from the same user in the same room follows within it. Senders refresh while typing, every
   * `typingRefreshMs`, well inside this.
   */
  typingTtlMs: 5_000,
  /** How often a typing client repeats `typing: true` (the SDK does it for the application). */
  typingRefreshMs: 3_000,
  /** The server passes on at most one `typing` per user and room per this window, except a stop. */
  typingThrottleMs: 1_000,
} as const;

/**
 * An upper bound of a message's size on the wire, without encoding it: every UTF-16 code unit of its text and
 * sender name at 3 bytes (UTF-8's worst case, or a JSON escape), plus its other fields.
 */
export function messageSizeBound(message: { text: string; user: { id: string; name: string } }): number {
  return 3 * (message.text.length + message.user.name.length) + message.user.id.length + 256;
}

/** The longest run of `messages` from the end (the newest) whose size bounds fit in `budget` bytes. */
export function newestWithin<M extends { text: string; user: { id: string; name: string } }>(
  messages: readonly M[],
  budget: number,
): M[] {
  let bytes = 0;
  let from = messages.length;
  while (from > 0) {
    bytes += messageSizeBound(messages[from - 1]!);
    if (bytes > budget) break;
    from -= 1;
  }
  return messages.slice(from);
}

/** Allowed room-name characters, as a pattern anchored at both ends. */
export const ROOM_NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;

/**
 * Rooms whose name starts with this are private: only users whose token's `rooms` claim lists them (by exact name,
 * or by a prefix ending in `*`) may join, read or write them.
 */
export const PRIVATE_ROOM_PREFIX = 'private-';

/** Direct-message rooms: named by the server (`dm:open`), open to their two users only. */
export const DM_ROOM_PREFIX = 'dm-';
