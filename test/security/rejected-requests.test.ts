import { beforeEach, describe, expect, it } from 'vitest';
import { expectClusterServes, expectLobbyUntouched, lobbyOfThree } from '../support/bystanders';
import { connectClient, waitForMessages } from '../support/clients';
import { startCluster, type TestCluster } from '../support/cluster';
import { useRedis } from '../support/hooks';
import { connectRawSocketIo, emitUnchecked, emitWithoutAck } from '../support/hostile-clients';
import { useSecurityWatch } from '../support/security-watch';
import { eventually } from '../support/wait';

const redis = useRedis();
useSecurityWatch();
let cluster: TestCluster;

const rejected = (code: string, message: unknown = expect.any(String)) => ({
  ok: false,
  error: { code, message },
});

describe('events outside the contract', () => {
  beforeEach(async () => {
    cluster = await startCluster({ redisUrl: redis.url, gateways: 2 });
  });

  it('drops events sent without an ack and answers the same client’s next request', async () => {
    const lobby = await lobbyOfThree(cluster);
    emitWithoutAck(lobby.attacker.socket, 'message:send', { room: 'lobby', text: 'unacked' });
    emitWithoutAck(lobby.attacker.socket, 'room:join', { room: 'unacked' });
    emitWithoutAck(lobby.attacker.socket, 'room:leave', { room: 'lobby' });
    emitWithoutAck(lobby.attacker.socket, 'admin:flush');
    emitWithoutAck(lobby.attacker.socket, 'message:send');

    // Events on one socket are handled in order, so an acked request answered now proves the ones before it
    // were dropped: no message was appended, no room joined, none left.
    expect(lobby.attacker.socket.connected).toBe(true);
    await expectLobbyUntouched(Object.values(lobby), lobby.attacker);
    await expectClusterServes(cluster);
  });

  it('answers an unknown event name with INVALID_PAYLOAD and quotes at most 64 characters of it', async () => {
    const lobby = await lobbyOfThree(cluster);
    for (const event of ['admin:flush', 'session', 'message', 'constructor', '__proto__', 'toString']) {
      expect(await emitUnchecked(lobby.attacker.socket, event, {})).toEqual(
        rejected('INVALID_PAYLOAD', `unknown event "${event}"`),
      );
    }
    const long = 'x'.repeat(10_000);
    expect(await emitUnchecked(lobby.attacker.socket, long, {})).toEqual(
      rejected('INVALID_PAYLOAD', `unknown event "${long.slice(0, 64)}"`),
    );
    await expectLobbyUntouched(Object.values(lobby), lobby.neighbour);
    await expectClusterServes(cluster);
  });

  it('answers an event with extra or missing arguments with INVALID_PAYLOAD', async () => {
    const lobby = await lobbyOfThree(cluster);
    const { socket } = lobby.attacker;
    const takes = (event: string) => rejected('INVALID_PAYLOAD', `${event} takes (payload, ack)`);
    expect(await emitUnchecked(socket, 'message:send', { room: 'lobby', text: 'hi' }, 'extra')).toEqual(
      takes('message:send'),
    );
    expect(await emitUnchecked(socket, 'room:join', { room: 'other' }, { room: 'more' })).toEqual(
      takes('room:join'),
    );
    expect(await emitUnchecked(socket, 'rooms:list')).toEqual(takes('rooms:list'));
    await expectLobbyUntouched(Object.values(lobby), lobby.remote);
  });

  it('cuts off a client that forges the reserved disconnect event, and only that client', async () => {
    const lobby = await lobbyOfThree(cluster);
    const forger = await connectRawSocketIo(cluster.gateways[0]!.url);
    expect(await forger.request('room:join', '{"room":"lobby"}')).toMatchObject({ ok: true });
    // Socket.IO's parser refuses reserved event names and closes the connection; if it let one through, the
    // handlers would run the forger's disconnect cleanup while its socket stayed connected.
    forger.emit('disconnect', '"forged"');
    await eventually(() => expect(forger.isOpen()).toBe(false));
    await eventually(() =>
      expect(lobby.neighbour.presence.filter((p) => p.state === 'left')).toHaveLength(1),
    );
    await expectLobbyUntouched(Object.values(lobby), lobby.neighbour);
    await expectClusterServes(cluster);
  });
});

describe('rooms the client has not joined', () => {
  beforeEach(async () => {
    cluster = await startCluster({ redisUrl: redis.url, gateways: 2 });
  });

  it('answers message:send, history:get and room:leave for a room not joined with NOT_IN_ROOM', async () => {
    const [a, b] = cluster.gateways;
    const outsider = await connectClient(a!.url, { name: 'mallory' });
    const member = await connectClient(b!.url, { name: 'bob' });
    await member.ok('room:join', { room: 'private' });
    await member.ok('message:send', { room: 'private', text: 'secret' });

    const notInRoom = rejected('NOT_IN_ROOM');
    expect(await outsider.request('message:send', { room: 'private', text: 'let me in' })).toEqual(notInRoom);
    expect(await outsider.request('history:get', { room: 'private' })).toEqual(notInRoom);
    expect(await outsider.request('room:leave', { room: 'private' })).toEqual(notInRoom);

    // Membership ends with room:leave: a left room is as closed as one never joined.
    await outsider.ok('room:join', { room: 'private' });
    await outsider.ok('room:leave', { room: 'private' });
    expect(await outsider.request('message:send', { room: 'private', text: 'still here?' })).toEqual(
      notInRoom,
    );
    expect(await outsider.request('history:get', { room: 'private' })).toEqual(notInRoom);

    const { message } = await member.ok('message:send', { room: 'private', text: 'marker' });
    expect(message.seq).toBe(2);
    expect((await waitForMessages(member, 'private', 2)).map((m) => m.text)).toEqual(['secret', 'marker']);
    expect(outsider.messages).toEqual([]);
  });
});

describe('a client over its message budget', () => {
  beforeEach(async () => {
    cluster = await startCluster({ redisUrl: redis.url, gateways: 2, rateLimit: { perSecond: 1, burst: 3 } });
  });

  it('answers RATE_LIMITED once a client spends its burst, without limiting anyone else', async () => {
    const lobby = await lobbyOfThree(cluster);
    const burst = (client: typeof lobby.attacker, tag: string, count: number) =>
      Promise.all(
        Array.from({ length: count }, (_, i) =>
          client.request('message:send', { room: 'lobby', text: `${tag}-${i}` }),
        ),
      );
    const answers = await burst(lobby.attacker, 'mallory', 4);
    expect(answers.map((a) => (a.ok ? 'ok' : a.error.code))).toEqual(['ok', 'ok', 'ok', 'RATE_LIMITED']);

    expect((await burst(lobby.neighbour, 'alice', 3)).every((a) => a.ok)).toBe(true);
    expect((await burst(lobby.remote, 'bob', 3)).every((a) => a.ok)).toBe(true);
    for (const member of Object.values(lobby)) {
      const texts = (await waitForMessages(member, 'lobby', 9)).map((m) => m.text);
      expect(texts).toHaveLength(9);
      expect(texts).not.toContain('mallory-3');
    }
  });

  it('does not charge rejected requests against the budget', async () => {
    const lobby = await lobbyOfThree(cluster);
    for (let i = 0; i < 5; i++) {
      await emitUnchecked(lobby.attacker.socket, 'message:send', { room: 'lobby', text: '' });
      await lobby.attacker.request('message:send', { room: 'elsewhere', text: 'hi' });
    }
    for (let i = 0; i < 3; i++) await lobby.attacker.ok('message:send', { room: 'lobby', text: `m${i}` });
  });

  it('lets a limited client send again once its budget refills', async () => {
    const lobby = await lobbyOfThree(cluster);
    for (let i = 0; i < 3; i++) await lobby.attacker.ok('message:send', { room: 'lobby', text: `m${i}` });
    // One token a second: the client is told to wait about a second.
    expect(await lobby.attacker.request('message:send', { room: 'lobby', text: 'too soon' })).toEqual({
      ok: false,
      error: { code: 'RATE_LIMITED', message: expect.any(String), retryAfterMs: expect.any(Number) },
    });
    // One token a second: the next send succeeds within about a second.
    await eventually(() => lobby.attacker.ok('message:send', { room: 'lobby', text: 'later' }), {
      timeoutMs: 3_000,
      intervalMs: 100,
    });
    await waitForMessages(lobby.remote, 'lobby', 4);
  });
});
