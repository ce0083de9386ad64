import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { ChorusError, ERROR_CODES, isErrorCode } from './errors';
import { CLIENT_EVENTS, formatPlainLine, isClientEvent, toUser } from './events';
import { messageSizeBound, newestWithin } from './limits';
import {
  ApiHistoryQuerySchema,
  ClientMsgIdSchema,
  HandshakeAuthSchema,
  isWellFormed,
  MessageSendSchema,
  NameSchema,
  PositionSchema,
  parsePayload,
  RoomJoinSchema,
  RoomsListSchema,
  toPayloadIssues,
  UserIdSchema,
} from './schemas';

// The wire contract's behaviour, pinned by value: each expectation is what a client of another language relies on.
describe('error codes and ChorusError', () => {
  it('is the closed list of codes, recognised by name only', () => {
    expect(ERROR_CODES).toEqual([
      'INVALID_PAYLOAD',
      'NOT_IN_ROOM',
      'RATE_LIMITED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'UNAVAILABLE',
      'INTERNAL',
    ]);
    for (const code of ERROR_CODES) expect(isErrorCode(code)).toBe(true);
    expect(isErrorCode('NOPE')).toBe(false);
    expect(isErrorCode(undefined)).toBe(false);
    expect(isErrorCode(['INTERNAL'])).toBe(false);
  });

  it('carries code, message and details, and turns into an ack error with only what it has', () => {
    const plain = new ChorusError('FORBIDDEN', 'no');
    expect(plain).toBeInstanceOf(Error);
    expect(plain.name).toBe('ChorusError');
    expect(plain.toAckError()).toStrictEqual({ code: 'FORBIDDEN', message: 'no' });
    const detailed = new ChorusError('INVALID_PAYLOAD', 'bad', [{ path: 'room', message: 'empty' }]);
    expect(detailed.toAckError()).toStrictEqual({
      code: 'INVALID_PAYLOAD',
      message: 'bad',
      details: [{ path: 'room', message: 'empty' }],
    });
    expect(new ChorusError('RATE_LIMITED', 'later', undefined, 0).toAckError()).toStrictEqual({
      code: 'RATE_LIMITED',
      message: 'later',
      retryAfterMs: 0,
    });
  });

  it('tells a rate-limited client a whole number of milliseconds, at least one', () => {
    expect(ChorusError.rateLimited('slow', 1.2).toAckError()).toStrictEqual({
      code: 'RATE_LIMITED',
      message: 'slow',
      retryAfterMs: 2,
    });
    expect(ChorusError.rateLimited('slow', 0).retryAfterMs).toBe(1);
    expect(ChorusError.rateLimited('slow', 250).retryAfterMs).toBe(250);
  });
});

describe('payload parsing', () => {
  it('returns the parsed payload, or INVALID_PAYLOAD with each issue and a summary', () => {
    expect(parsePayload(RoomJoinSchema, { room: 'lobby' })).toEqual({ room: 'lobby' });
    let error: unknown;
    try {
      parsePayload(MessageSendSchema, { room: '', text: 'hi', extra: 1 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ChorusError);
    const chorus = error as ChorusError;
    expect(chorus.code).toBe('INVALID_PAYLOAD');
    expect(chorus.details!.map((d) => d.path)).toEqual(['room', 'room', '(root)']);
    expect(chorus.message).toBe(
      `invalid payload (${chorus.details!.map((d) => `${d.path}: ${d.message}`).join('; ')})`,
    );
    expect(chorus.details![0]!.message).toBe('room must not be empty');
  });

  it('names nested paths with dots and keeps at most ten issues', () => {
    const schema = z.strictObject({ a: z.strictObject({ b: z.array(z.string()) }) });
    const result = schema.safeParse({ a: { b: Array.from({ length: 12 }, () => 1) } });
    const issues = toPayloadIssues(result.error!);
    expect(issues).toHaveLength(10);
    expect(issues[0]!.path).toBe('a.b.0');
    expect(issues[9]!.path).toBe('a.b.9');
  });

  it('rejects unknown keys, including __proto__', () => {
    expect(RoomJoinSchema.safeParse(JSON.parse('{"room":"r","__proto__":{"x":1}}')).success).toBe(false);
    expect(HandshakeAuthSchema.safeParse({ name: 'a', admin: true }).success).toBe(false);
  });
});

describe('names, ids and text', () => {
  const ok = (schema: z.ZodType, value: unknown) => schema.safeParse(value).success;

  it('trims names and refuses invisible or control characters, but keeps emoji sequences', () => {
    expect(NameSchema.parse('  bob  ')).toBe('bob');
    expect(ok(NameSchema, 'bo\u200Bb')).toBe(false);
    expect(ok(NameSchema, 'bo\u0007b')).toBe(false);
    expect(ok(NameSchema, 'bo\u202Eb')).toBe(false);
    expect(ok(NameSchema, 'bob\uD800')).toBe(false);
    expect(ok(NameSchema, 'dev 👩‍💻')).toBe(true);
    expect(ok(NameSchema, 'a\u200Db')).toBe(false);
  });

  it('takes user ids without control characters or surrounding space', () => {
    expect(ok(UserIdSchema, 'user-1')).toBe(true);
    expect(ok(UserIdSchema, ' user-1')).toBe(false);
    expect(ok(UserIdSchema, 'user-1 ')).toBe(false);
    expect(ok(UserIdSchema, 'us\u200Ber')).toBe(false);
    expect(ok(UserIdSchema, '')).toBe(false);
    expect(ok(UserIdSchema, 'u'.repeat(128))).toBe(true);
    expect(ok(UserIdSchema, 'u'.repeat(129))).toBe(false);
    expect(ok(UserIdSchema, 'u\uDC00')).toBe(false);
  });

  it('refuses blank or malformed text, and keeps text as sent', () => {
    const send = (text: string) => MessageSendSchema.safeParse({ room: 'r', text });
    expect(send('  \n ').success).toBe(false);
    expect(send('hi\uD800').success).toBe(false);
    expect(send(' hi ').data).toEqual({ room: 'r', text: ' hi ' });
    expect(isWellFormed('a\uD83D\uDE00')).toBe(true);
    expect(isWellFormed('a\uD83D')).toBe(false);
  });

  it('takes idempotency keys of 1–64 safe characters', () => {
    expect(ok(ClientMsgIdSchema, 'abc-1_2.3:4')).toBe(true);
    expect(ok(ClientMsgIdSchema, '')).toBe(false);
    expect(ok(ClientMsgIdSchema, 'k'.repeat(64))).toBe(true);
    expect(ok(ClientMsgIdSchema, 'k'.repeat(65))).toBe(false);
    expect(ok(ClientMsgIdSchema, 'a b')).toBe(false);
    expect(ok(ClientMsgIdSchema, 'a/b')).toBe(false);
  });

  it('takes positions with an epoch of 1–64 characters and a whole seq from 0', () => {
    expect(ok(PositionSchema, { epoch: 'e', seq: 0 })).toBe(true);
    expect(ok(PositionSchema, { epoch: '', seq: 0 })).toBe(false);
    expect(ok(PositionSchema, { epoch: 'e'.repeat(65), seq: 0 })).toBe(false);
    expect(ok(PositionSchema, { epoch: 'e', seq: -1 })).toBe(false);
    expect(ok(PositionSchema, { epoch: 'e', seq: 1.5 })).toBe(false);
    expect(ok(PositionSchema, { epoch: 'e', seq: Number.MAX_SAFE_INTEGER + 2 })).toBe(false);
  });

  it('takes tokens in compact JWT form only', () => {
    expect(ok(HandshakeAuthSchema, { token: 'aa.bb.cc' })).toBe(true);
    expect(ok(HandshakeAuthSchema, { token: 'aa.bb' })).toBe(false);
    expect(ok(HandshakeAuthSchema, { guestToken: 'x aa.bb.cc' })).toBe(false);
    expect(ok(HandshakeAuthSchema, { token: `a.b.${'c'.repeat(8_192)}` })).toBe(false);
  });

  it('coerces the server API’s query numbers and bounds pages', () => {
    expect(ApiHistoryQuerySchema.parse({ before: '5', limit: '10' })).toEqual({ before: 5, limit: 10 });
    expect(ok(ApiHistoryQuerySchema, { before: '0' })).toBe(false);
    expect(ok(ApiHistoryQuerySchema, { limit: '101' })).toBe(false);
    expect(ok(RoomsListSchema, { cursor: 10_000, limit: 100 })).toBe(true);
    expect(ok(RoomsListSchema, { cursor: 10_001 })).toBe(false);
    expect(ok(RoomsListSchema, { cursor: -1 })).toBe(false);
    expect(ok(RoomsListSchema, { limit: 0 })).toBe(false);
    expect(ok(RoomsListSchema, { limit: 101 })).toBe(false);
  });
});

describe('users, events and plain lines', () => {
  it('keeps exactly a user’s fields, and the guest mark only when set', () => {
    const extra = { id: 'u', name: 'n', token: 'secret' } as unknown as Parameters<typeof toUser>[0];
    expect(toUser(extra)).toStrictEqual({ id: 'u', name: 'n' });
    expect(toUser({ id: 'g', name: 'n', guest: true })).toStrictEqual({ id: 'g', name: 'n', guest: true });
  });

  it('knows the client events by name', () => {
    for (const name of CLIENT_EVENTS) expect(isClientEvent(name)).toBe(true);
    expect(isClientEvent('admin:kick')).toBe(false);
    expect(isClientEvent('toString')).toBe(false);
  });

  it('shows a message to plain clients on one line, control characters escaped', () => {
    expect(formatPlainLine({ user: { id: 'u', name: 'bob' }, text: 'hi' })).toBe('from bob: hi');
    expect(formatPlainLine({ user: { id: 'u', name: 'b\tob' }, text: 'a\nb\rc\u001b\u007f\u2028' })).toBe(
      'from b\\tob: a\\nb\\rc\\u001b\\u007f\\u2028',
    );
  });
});

describe('answer sizes', () => {
  const m = (text: string, name = 'n', id = 'u') => ({ text, user: { id, name } });

  it('bounds a message at 3 bytes per character of text and name, plus its id and 256', () => {
    expect(messageSizeBound(m('abc', 'bo', 'id-1'))).toBe(3 * 5 + 4 + 256);
  });

  it('keeps the newest messages whose bounds fit the budget, to the byte', () => {
    const messages = [m('a'), m('bb'), m('ccc')];
    const sizes = messages.map(messageSizeBound);
    expect(newestWithin(messages, sizes[2]! + sizes[1]!)).toEqual([m('bb'), m('ccc')]);
    expect(newestWithin(messages, sizes[2]! + sizes[1]! - 1)).toEqual([m('ccc')]);
    expect(newestWithin(messages, sizes[0]! + sizes[1]! + sizes[2]!)).toEqual(messages);
    expect(newestWithin(messages, 0)).toEqual([]);
    expect(newestWithin([], 1_000)).toEqual([]);
  });
});
