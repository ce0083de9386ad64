import { LIMITS } from '@chorus/protocol';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { expectClusterServes, expectLobbyUntouched, lobbyOfThree } from '../support/bystanders';
import { connectClient, connectPlain, waitForMessages } from '../support/clients';
import { useCluster } from '../support/hooks';
import { useSecurityWatch } from '../support/security-watch';
import { eventually, withTimeout } from '../support/wait';

const cluster = useCluster({ gateways: 2 });
useSecurityWatch();

// 100 KB of text: well over the 64 KiB frame limit, whatever the envelope.
const OVERSIZED_TEXT = 'x'.repeat(100_000);

describe('frames over the size limit', () => {
  it.each(['websocket', 'polling'] as const)(
    'disconnects a %s client that sends an oversized frame, and only that client',
    async (transport) => {
      const lobby = await lobbyOfThree(cluster, transport);
      const { attacker, neighbour, remote } = lobby;
      const disconnected = new Promise<string>((resolve) => attacker.socket.once('disconnect', resolve));

      attacker.socket.emit('message:send', { room: 'lobby', text: OVERSIZED_TEXT }, () => {});

      expect(await withTimeout(disconnected, 5_000, 'attacker disconnect')).toMatch(
        /^transport (close|error)$/,
      );
      // The gateway, not just the client, dropped the connection: the others see the attacker leave.
      for (const member of [neighbour, remote]) {
        await eventually(() =>
          expect(member.presence).toContainEqual({
            room: 'lobby',
            user: attacker.session.user,
            state: 'left',
          }),
        );
      }
      expect(neighbour.socket.connected).toBe(true);
      await expectLobbyUntouched([neighbour, remote], neighbour);
      await expectClusterServes(cluster);
    },
  );

  it('closes a plain WebSocket that sends an oversized frame with 1009, and only that one', async () => {
    const [a, b] = cluster.gateways;
    const remote = await connectClient(b!.url, { name: 'bob' });
    await remote.ok('room:join', { room: 'lobby' });
    const attacker = await connectPlain(a!.url, { room: 'lobby', name: 'mallory' });
    const neighbour = await connectPlain(a!.url, { room: 'lobby', name: 'alice' });
    const joined = (name: string) =>
      remote.presence.some((p) => p.user.name === name && p.state === 'joined');
    await eventually(() => joined('mallory') && joined('alice'));
    const closed = new Promise<number>((resolve) => attacker.ws.once('close', resolve));

    attacker.send(OVERSIZED_TEXT);

    expect(await withTimeout(closed, 5_000, 'attacker close')).toBe(1009);
    await eventually(() => remote.presence.some((p) => p.user.name === 'mallory' && p.state === 'left'));
    expect(neighbour.ws.readyState).toBe(WebSocket.OPEN);
    neighbour.send('still here');
    const [message] = await waitForMessages(remote, 'lobby', 1);
    expect(message).toMatchObject({ seq: 1, text: 'still here', user: { name: 'alice' } });
    await eventually(() => expect(neighbour.lines).toEqual(['from alice: still here']));
    await expectClusterServes(cluster);
  });

  it('accepts the longest legal message, so the frame limit stops only abuse', async () => {
    const lobby = await lobbyOfThree(cluster, 'polling');
    // 4000 three-byte characters, 12 KB of UTF-8. Even escaped as \uXXXX, a legal text stays under 24 KB.
    const text = '€'.repeat(LIMITS.textMax);
    const { message } = await lobby.attacker.ok('message:send', { room: 'lobby', text });
    expect((await waitForMessages(lobby.remote, 'lobby', 1))[0]).toEqual(message);
    expect(lobby.attacker.socket.connected).toBe(true);
  });
});
