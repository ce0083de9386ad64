import { type ClientEventName, LIMITS } from '@chorus/protocol';
import { describe, expect, it } from 'vitest';
import { expectClusterServes, expectLobbyUntouched, lobbyOfThree } from '../support/bystanders';
import { useCluster } from '../support/hooks';
import { connectRawSocketIo, emitUnchecked } from '../support/hostile-clients';
import { useSecurityWatch } from '../support/security-watch';

const cluster = useCluster({ gateways: 2 });
useSecurityWatch();

/** One malformed payload, and the path (and, for unknown keys, the key) its INVALID_PAYLOAD must name. */
interface BadPayload {
  label: string;
  payload: unknown;
  path: string;
  mentions?: string;
}

const NOT_AN_OBJECT: BadPayload[] = [
  { label: 'a string', payload: 'lobby', path: '(root)' },
  { label: 'an array', payload: ['lobby'], path: '(root)' },
  { label: 'a number', payload: 42, path: '(root)' },
  { label: 'null', payload: null, path: '(root)' },
];

const BAD_ROOMS: [string, unknown][] = [
  ['null', null],
  ['a number', 7],
  ['empty', ''],
  ['with a space', 'a b'],
  ['with a path', '../lobby'],
  ['with markup', '<b>x</b>'],
  ['with non-ASCII letters', 'café'],
  ['one over the length limit', 'r'.repeat(LIMITS.roomMax + 1)],
];

const badRooms = (rest: object): BadPayload[] =>
  BAD_ROOMS.map(([label, room]) => ({ label: `room ${label}`, payload: { ...rest, room }, path: 'room' }));

// JSON.parse makes `__proto__` an own property, and socket.io-client's JSON.stringify sends it as such.
const withProtoKey = (json: string): BadPayload => ({
  label: 'an own __proto__ key',
  payload: JSON.parse(json),
  path: '(root)',
  mentions: '__proto__',
});

const BAD_PAYLOADS: Record<ClientEventName, BadPayload[]> = {
  'room:join': [
    ...NOT_AN_OBJECT,
    { label: 'no room', payload: {}, path: 'room' },
    ...badRooms({}),
    { label: 'an unknown key', payload: { room: 'lobby', admin: true }, path: '(root)', mentions: 'admin' },
    withProtoKey('{"room":"lobby","__proto__":{"polluted":true}}'),
    { label: 'since not an object', payload: { room: 'lobby', since: '1:5' }, path: 'since' },
    {
      label: 'a negative since.seq',
      payload: { room: 'lobby', since: { epoch: 'e', seq: -1 } },
      path: 'since.seq',
    },
  ],
  'room:leave': [
    ...NOT_AN_OBJECT,
    { label: 'no room', payload: {}, path: 'room' },
    ...badRooms({}),
    { label: 'an unknown key', payload: { room: 'lobby', all: true }, path: '(root)', mentions: 'all' },
  ],
  'message:send': [
    ...NOT_AN_OBJECT,
    { label: 'no text', payload: { room: 'lobby' }, path: 'text' },
    { label: 'no room', payload: { text: 'hi' }, path: 'room' },
    { label: 'text a number', payload: { room: 'lobby', text: 123 }, path: 'text' },
    { label: 'text empty', payload: { room: 'lobby', text: '' }, path: 'text' },
    { label: 'text only white space', payload: { room: 'lobby', text: ' \n\t ' }, path: 'text' },
    {
      label: 'text one over the length limit',
      payload: { room: 'lobby', text: 'x'.repeat(LIMITS.textMax + 1) },
      path: 'text',
    },
    // A lone surrogate once took a seq in Redis and then failed, freezing the room for everyone.
    { label: 'text with a lone high surrogate', payload: { room: 'lobby', text: 'hi \ud83d' }, path: 'text' },
    { label: 'text with a lone low surrogate', payload: { room: 'lobby', text: '\ude00 hi' }, path: 'text' },
    ...badRooms({ text: 'hi' }),
    {
      label: 'a bad clientMsgId',
      payload: { room: 'lobby', text: 'hi', clientMsgId: 'a b' },
      path: 'clientMsgId',
    },
    {
      label: 'a forged user',
      payload: { room: 'lobby', text: 'hi', user: { id: 'u-admin', name: 'admin' } },
      path: '(root)',
      mentions: 'user',
    },
    withProtoKey('{"room":"lobby","text":"hi","__proto__":{"polluted":true}}'),
  ],
  'history:get': [
    ...NOT_AN_OBJECT,
    { label: 'no room', payload: {}, path: 'room' },
    ...badRooms({}),
    { label: 'limit 0', payload: { room: 'lobby', limit: 0 }, path: 'limit' },
    {
      label: 'limit one over the maximum',
      payload: { room: 'lobby', limit: LIMITS.historyMax + 1 },
      path: 'limit',
    },
    { label: 'a fractional limit', payload: { room: 'lobby', limit: 1.5 }, path: 'limit' },
    { label: 'limit a string', payload: { room: 'lobby', limit: '10' }, path: 'limit' },
    { label: 'before 0', payload: { room: 'lobby', before: 0 }, path: 'before' },
    { label: 'a negative before', payload: { room: 'lobby', before: -5 }, path: 'before' },
    { label: 'an unknown key', payload: { room: 'lobby', after: 1 }, path: '(root)', mentions: 'after' },
  ],
  'rooms:list': [
    ...NOT_AN_OBJECT,
    { label: 'an unknown key', payload: { room: 'lobby' }, path: '(root)', mentions: 'room' },
    withProtoKey('{"__proto__":{"polluted":true}}'),
  ],
  'dm:open': [
    ...NOT_AN_OBJECT,
    { label: 'no user', payload: {}, path: 'user' },
    { label: 'user a number', payload: { user: 42 }, path: 'user' },
    { label: 'user empty', payload: { user: '' }, path: 'user' },
    { label: 'user too long', payload: { user: 'u'.repeat(LIMITS.userIdMax + 1) }, path: 'user' },
    { label: 'user with a zero-width space', payload: { user: 'bob\u200b' }, path: 'user' },
    { label: 'user with a line break', payload: { user: 'bob\nadmin' }, path: 'user' },
    { label: 'an unknown key', payload: { user: 'bob', room: 'x' }, path: '(root)', mentions: 'room' },
  ],
  typing: [
    ...NOT_AN_OBJECT,
    { label: 'no typing', payload: { room: 'lobby' }, path: 'typing' },
    { label: 'no room', payload: { typing: true }, path: 'room' },
    { label: 'typing a string', payload: { room: 'lobby', typing: 'yes' }, path: 'typing' },
    { label: 'typing a number', payload: { room: 'lobby', typing: 1 }, path: 'typing' },
    ...badRooms({ typing: true }),
    {
      label: 'a forged user',
      payload: { room: 'lobby', typing: true, user: { id: 'u-admin', name: 'admin' } },
      path: '(root)',
      mentions: 'user',
    },
    withProtoKey('{"room":"lobby","typing":true,"__proto__":{"polluted":true}}'),
  ],
};

const invalidPayload = (path: string, mentions?: string) => ({
  ok: false,
  error: {
    code: 'INVALID_PAYLOAD',
    message: expect.any(String),
    details: expect.arrayContaining([
      { path, message: mentions ? expect.stringContaining(mentions) : expect.any(String) },
    ]),
  },
});

describe('payloads that fail their schema', () => {
  it.each(Object.keys(BAD_PAYLOADS) as ClientEventName[])(
    'answers every malformed %s with INVALID_PAYLOAD naming the offending path, and changes nothing',
    async (event) => {
      const { attacker, neighbour, remote } = await lobbyOfThree(cluster);
      const cases = BAD_PAYLOADS[event];
      const answers: { label: string; answer: unknown }[] = [];
      for (const bad of cases) {
        answers.push({ label: bad.label, answer: await emitUnchecked(attacker.socket, event, bad.payload) });
      }
      expect(answers).toEqual(
        cases.map((bad) => ({ label: bad.label, answer: invalidPayload(bad.path, bad.mentions) })),
      );

      await expectLobbyUntouched([attacker, neighbour, remote], remote);
      await attacker.ok('history:get', { room: 'lobby' });
      await expectClusterServes(cluster);
    },
  );
});

describe('deeply nested payloads', () => {
  const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
  // The deepest array that still fits in one frame with its envelope: about 32,000 levels.
  const deepestInOneFrame = Math.floor((LIMITS.maxFrameBytes - 64) / 2);

  it('answers arrays nested thousands deep, as the payload or a field, with INVALID_PAYLOAD and serves on', async () => {
    const lobby = await lobbyOfThree(cluster);
    const attacker = await connectRawSocketIo(cluster.gateways[0]!.url);

    expect(await attacker.request('room:join', nested(5_000))).toEqual(invalidPayload('(root)'));
    expect(await attacker.request('room:join', `{"room":${nested(5_000)}}`)).toEqual(invalidPayload('room'));
    expect(await attacker.request('message:send', `{"room":"lobby","text":${nested(5_000)}}`)).toEqual(
      invalidPayload('text'),
    );
    expect(await attacker.request('message:send', nested(deepestInOneFrame))).toEqual(
      invalidPayload('(root)'),
    );
    expect(await attacker.request('rooms:list', `{"since":${nested(deepestInOneFrame - 10)}}`)).toEqual(
      invalidPayload('(root)', 'since'),
    );
    // The attacker is answered, not cut off, and everyone else on its gateway carries on.
    expect(attacker.isOpen()).toBe(true);
    expect(await attacker.request('rooms:list', '{}')).toMatchObject({ ok: true });
    await expectLobbyUntouched(Object.values(lobby), lobby.neighbour);
    await expectClusterServes(cluster);
  });
});
