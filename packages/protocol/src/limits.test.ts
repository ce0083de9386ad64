import { describe, expect, it } from 'vitest';
import { LIMITS } from './limits';
import { HistoryGetSchema, MessageSendSchema, NameSchema, RoomSchema } from './schemas';

// The wire contract's numbers, written out: a change to any of them is a protocol change and must show here.
describe('limits of the wire contract', () => {
  it('are the documented values', () => {
    expect(LIMITS).toEqual({
      nameMin: 1,
      nameMax: 32,
      roomMax: 64,
      textMin: 1,
      textMax: 4000,
      userIdMax: 128,
      tokenMax: 8192,
      clientMsgIdMax: 64,
      joinHistory: 50,
      historyDefault: 50,
      historyMax: 100,
      roomsListDefault: 50,
      roomsListMax: 100,
      roomsListDepth: 10_000,
      roomsPerSocket: 100,
      maxFrameBytes: 65_536,
      maxAnswerBytes: 1_048_576,
      joinMembersMax: 500,
      typingTtlMs: 5_000,
      typingRefreshMs: 3_000,
      typingThrottleMs: 1_000,
    });
  });

  it('are what the schemas enforce, at the edges', () => {
    const send = (text: string) => MessageSendSchema.safeParse({ room: 'r', text }).success;
    expect([send('x'.repeat(4000)), send('x'.repeat(4001)), send('')]).toEqual([true, false, false]);
    const name = (n: string) => NameSchema.safeParse(n).success;
    expect([name('n'.repeat(32)), name('n'.repeat(33)), name('  ')]).toEqual([true, false, false]);
    const room = (r: string) => RoomSchema.safeParse(r).success;
    expect([room('r'.repeat(64)), room('r'.repeat(65))]).toEqual([true, false]);
    const history = (limit: number) => HistoryGetSchema.safeParse({ room: 'r', limit }).success;
    expect([history(100), history(101), history(0)]).toEqual([true, false, false]);
  });
});
