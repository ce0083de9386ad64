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
} as const;

/** Allowed room-name characters, as a pattern anchored at both ends. */
export const ROOM_NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;
