import * as z from 'zod';
import { ChorusError, type PayloadIssue } from './errors';
import { LIMITS, ROOM_NAME_PATTERN } from './limits';

// Every incoming payload is a strict object: unknown keys (including `__proto__`) are rejected, not stripped,
// so a client learns about a typo instead of having it silently ignored.

/**
 * What a display name may not hold, so that every name shows as what it is and two names that look the same
 * are the same string: control characters (C0, DEL, C1), format characters (zero-width spaces and joiners,
 * bidirectional overrides and isolates, soft hyphen, byte-order mark…), line and paragraph separators,
 * private-use and unassigned code points. One exception: a zero-width joiner right after a pictograph, which
 * emoji sequences (👩‍💻) need.
 */
export const NAME_FORBIDDEN_PATTERN =
  /(?<!\p{Extended_Pictographic}\uFE0F?)\u200D|[\p{Cc}\p{Zl}\p{Zp}\p{Co}\p{Cn}]|(?!\u200D)\p{Cf}/u;

/** True when `text` has no lone UTF-16 surrogate, i.e. it can be encoded as UTF-8 and stored as is. */
export function isWellFormed(text: string): boolean {
  return text.isWellFormed();
}

/** A display name: well-formed Unicode, trimmed, 1–32 characters, none of `NAME_FORBIDDEN_PATTERN`. */
export const NameSchema = z
  .string()
  .refine(isWellFormed, 'name must be well-formed Unicode (no lone surrogates)')
  .trim()
  .min(LIMITS.nameMin, 'name must not be blank')
  .max(LIMITS.nameMax, `name must be at most ${LIMITS.nameMax} characters`)
  .refine(
    (name) => !NAME_FORBIDDEN_PATTERN.test(name),
    'name must not contain control characters or invisible (format) characters',
  );

/** A room name: 1–64 characters of letters, digits, `_`, `.`, `-`. */
export const RoomSchema = z
  .string()
  .min(1, 'room must not be empty')
  .max(LIMITS.roomMax, `room must be at most ${LIMITS.roomMax} characters`)
  .regex(ROOM_NAME_PATTERN, 'room may contain only letters, digits, "_", "." and "-"');

/** Message text: well-formed Unicode, 1–4000 characters, not only white space. */
export const TextSchema = z
  .string()
  .refine(isWellFormed, 'text must be well-formed Unicode (no lone surrogates)')
  .min(LIMITS.textMin, 'text must not be empty')
  .max(LIMITS.textMax, `text must be at most ${LIMITS.textMax} characters`)
  .refine((text) => text.trim().length > 0, 'text must not be blank');

/** A client-made idempotency key for a send. */
export const ClientMsgIdSchema = z
  .string()
  .min(1)
  .max(LIMITS.clientMsgIdMax)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'clientMsgId may contain only letters, digits, "_", ".", ":" and "-"');

/** A message sequence number within a room. Sequence numbers start at 1. */
export const SeqSchema = z.int().min(0).max(Number.MAX_SAFE_INTEGER);

/**
 * A user id: what a token's `sub` names, or a guest id. 1–128 characters, well-formed, no control or invisible
 * characters (they would make two ids look alike in logs and member lists).
 */
export const UserIdSchema = z
  .string()
  .min(1, 'user id must not be empty')
  .max(LIMITS.userIdMax, `user id must be at most ${LIMITS.userIdMax} characters`)
  .refine(isWellFormed, 'user id must be well-formed Unicode (no lone surrogates)')
  .refine(
    (id) => !NAME_FORBIDDEN_PATTERN.test(id) && id.trim() === id,
    'user id must not contain control, invisible or surrounding white-space characters',
  );

/** A signed token (JWT compact form): three base64url parts. */
const CompactTokenSchema = z
  .string()
  .max(LIMITS.tokenMax, `token must be at most ${LIMITS.tokenMax} characters`)
  .regex(
    /^[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/,
    'token must be a compact JWT (three base64url parts)',
  );

/**
 * Handshake `auth` object: a signed-in user's `token` (a JWT), or a guest's `guestToken` from an earlier
 * `session`, or neither (a new guest); `name` is a guest's display name (a signed-in user's comes from the token).
 */
export const HandshakeAuthSchema = z.strictObject({
  name: NameSchema.optional(),
  token: CompactTokenSchema.optional(),
  guestToken: CompactTokenSchema.optional(),
});

/** A position in a room's history: the epoch and the last seq the client has. */
export const PositionSchema = z.strictObject({
  epoch: z.string().min(1).max(64),
  seq: SeqSchema,
});

export const RoomJoinSchema = z.strictObject({ room: RoomSchema, since: PositionSchema.optional() });
export const RoomLeaveSchema = z.strictObject({ room: RoomSchema });
export const MessageSendSchema = z.strictObject({
  room: RoomSchema,
  text: TextSchema,
  clientMsgId: ClientMsgIdSchema.optional(),
});
export const HistoryGetSchema = z.strictObject({
  room: RoomSchema,
  before: SeqSchema.min(1).optional(),
  limit: z.int().min(1).max(LIMITS.historyMax).optional(),
});
export const DmOpenSchema = z.strictObject({ user: UserIdSchema });
/** `typing`: the connection's user started (`true`, repeated while typing) or stopped (`false`) typing in `room`. */
export const TypingSchema = z.strictObject({ room: RoomSchema, typing: z.boolean() });

/** Server API: `POST /api/rooms/:room/messages`. Without `user`, the message is from `system`. */
export const ApiMessagePostSchema = z.strictObject({
  text: TextSchema,
  user: z.strictObject({ id: UserIdSchema, name: NameSchema }).optional(),
  clientMsgId: ClientMsgIdSchema.optional(),
});

/** Server API: `GET /api/rooms/:room/history?before=&limit=` (query strings, so numbers are coerced). */
export const ApiHistoryQuerySchema = z.strictObject({
  before: z.coerce.number().pipe(SeqSchema.min(1)).optional(),
  limit: z.coerce.number().pipe(z.int().min(1).max(LIMITS.historyMax)).optional(),
});
export const RoomsListSchema = z.strictObject({
  /** Where the page starts: `nextCursor` of the page before; omitted for the first page. */
  cursor: z.int().min(0).max(LIMITS.roomsListDepth).optional(),
  limit: z.int().min(1).max(LIMITS.roomsListMax).optional(),
});

export type HandshakeAuth = z.infer<typeof HandshakeAuthSchema>;
export type Position = z.infer<typeof PositionSchema>;
export type RoomJoinPayload = z.input<typeof RoomJoinSchema>;
export type RoomLeavePayload = z.input<typeof RoomLeaveSchema>;
export type MessageSendPayload = z.input<typeof MessageSendSchema>;
export type HistoryGetPayload = z.input<typeof HistoryGetSchema>;
export type RoomsListPayload = z.input<typeof RoomsListSchema>;
export type DmOpenPayload = z.input<typeof DmOpenSchema>;
export type TypingPayload = z.input<typeof TypingSchema>;
export type ApiMessagePost = z.input<typeof ApiMessagePostSchema>;

/** Turns zod issues into the compact, JSON-safe form sent in `error.details`. */
export function toPayloadIssues(error: z.ZodError): PayloadIssue[] {
  return error.issues.slice(0, 10).map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
}

/**
 * Parses `input` with `schema`, or throws a `ChorusError('INVALID_PAYLOAD')` listing what is wrong.
 *
 * @example
 * const { room } = parsePayload(RoomJoinSchema, payload);
 */
export function parsePayload<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = toPayloadIssues(result.error);
  const summary = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  throw new ChorusError('INVALID_PAYLOAD', `invalid payload (${summary})`, issues);
}
