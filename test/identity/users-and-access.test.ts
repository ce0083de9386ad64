import type { PresenceEvent } from '@chorus/protocol';
import { describe, expect, it } from 'vitest';
import { connectClient, type TestClient } from '../support/clients';
import { useCluster } from '../support/hooks';
import { AUDIENCE, hsToken, ISSUER, JWT_SECRET } from '../support/identity';
import { eventually, sleep } from '../support/wait';

const cluster = useCluster({
  gateways: 3,
  auth: { secret: JWT_SECRET, issuer: ISSUER, audience: AUDIENCE },
});

const signIn = async (gateway: number, sub: string, claims: Record<string, unknown> = {}) =>
  connectClient(cluster.gateways[gateway]!.url, {
    auth: { token: await hsToken(sub, { name: sub, ...claims }) },
  });

const events = (client: TestClient, room: string) =>
  client.presence.filter((p) => p.room === room).map((p: PresenceEvent) => `${p.user.id} ${p.state}`);

describe('users, not connections', () => {
  it('lists a user with connections on two gateways once, and announces left only when the last one goes', async () => {
    const watcher = await signIn(2, 'watcher');
    await watcher.ok('room:join', { room: 'team' });
    const laptop = await signIn(0, 'alice');
    const phone = await signIn(1, 'alice');
    await laptop.ok('room:join', { room: 'team' });
    const second = await phone.ok('room:join', { room: 'team' });
    expect(second.members.map((m) => m.id).sort()).toEqual(['alice', 'watcher']);
    expect(second.memberCount).toBe(2);
    await eventually(() => expect(events(watcher, 'team')).toEqual(['alice joined']));

    laptop.close();
    await sleep(600);
    expect(events(watcher, 'team')).toEqual(['alice joined']);
    const listed = await watcher.ok('rooms:list', {});
    expect(listed.rooms.find((r) => r.room === 'team')?.members).toBe(2);

    await phone.ok('room:leave', { room: 'team' });
    await eventually(() => expect(events(watcher, 'team')).toEqual(['alice joined', 'alice left']));
    const after = await watcher.ok('room:join', { room: 'team' });
    expect(after.members.map((m) => m.id)).toEqual(['watcher']);
  });

  it('keeps a guest the same user across a reconnect to another gateway, marked as a guest', async () => {
    const first = await connectClient(cluster.gateways[0]!.url, { name: 'Wanderer' });
    expect(first.session.user).toEqual({
      id: expect.stringMatching(/^guest-/),
      name: 'Wanderer',
      guest: true,
    });
    await first.ok('room:join', { room: 'lobby' });
    const sent = await first.ok('message:send', { room: 'lobby', text: 'hello' });
    expect(sent.message.user).toEqual(first.session.user);
    first.close();

    const again = await connectClient(cluster.gateways[2]!.url, {
      auth: { guestToken: first.session.guestToken },
    });
    expect(again.session.user).toEqual(first.session.user);
    // A new name keeps the id; the fresh token carries it.
    const renamed = await connectClient(cluster.gateways[1]!.url, {
      auth: { guestToken: again.session.guestToken, name: 'Wanderer 2' },
    });
    expect(renamed.session.user).toEqual({ id: first.session.user.id, name: 'Wanderer 2', guest: true });
    const fresh = await connectClient(cluster.gateways[1]!.url, { name: 'Wanderer' });
    expect(fresh.session.user.id).not.toBe(first.session.user.id);
  });

  it('refuses guest names that pass for the service or its staff', async () => {
    for (const name of ['admin', 'System', 'A d m i n', 'ｓｙｓｔｅｍ', 'Moderator']) {
      await expect(connectClient(cluster.gateways[0]!.url, { name })).rejects.toMatchObject({
        data: { code: 'INVALID_PAYLOAD', message: expect.stringMatching(/reserved/) },
      });
    }
    // A signed-in user's name comes from the issuer, which is trusted with it.
    const staff = await signIn(0, 'staff-1', { name: 'Support' });
    expect(staff.session.user).toEqual({ id: 'staff-1', name: 'Support' });
  });
});

describe('private rooms and direct messages', () => {
  it('lets into a private room only users whose token grants it, on join, send and history alike', async () => {
    const member = await signIn(0, 'eve', { rooms: ['private-board', 'private-ops-*'] });
    const outsider = await signIn(1, 'frank', { rooms: ['private-other'] });
    const guest = await connectClient(cluster.gateways[2]!.url, { name: 'curious' });
    await member.ok('room:join', { room: 'private-board' });
    await member.ok('room:join', { room: 'private-ops-eu' });
    await member.ok('message:send', { room: 'private-board', text: 'for the board only' });

    const answers = [];
    for (const client of [outsider, guest]) {
      for (const room of ['private-board', 'private-ops-eu']) {
        answers.push(await client.request('room:join', { room }));
        answers.push(await client.request('message:send', { room, text: 'let me in' }));
        answers.push(await client.request('history:get', { room }));
      }
    }
    expect(answers).toHaveLength(12);
    for (const answer of answers) {
      expect(answer).toEqual({
        ok: false,
        error: { code: 'FORBIDDEN', message: expect.stringMatching(/private/) },
      });
    }
    // Public rooms stay open to everyone, guests included; outside one, the answer is still NOT_IN_ROOM.
    await guest.ok('room:join', { room: 'public-square' });
    expect(await outsider.request('history:get', { room: 'public-square' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_IN_ROOM' },
    });
    const history = await member.ok('history:get', { room: 'private-board' });
    expect(history.messages.map((m) => m.text)).toEqual(['for the board only']);
    // Nor are private rooms listed, to anyone: rooms:list shows public rooms.
    for (const client of [member, outsider]) {
      expect((await client.ok('rooms:list', {})).rooms.map((r) => r.room)).toEqual(['public-square']);
    }
  });

  it('opens one room for two users, whichever of them asks, that a third cannot join, send to or read', async () => {
    const alice = await signIn(0, 'alice');
    const bob = await signIn(1, 'bob');
    const bobPhone = await signIn(2, 'bob');
    const mallory = await signIn(2, 'mallory');
    const guest = await connectClient(cluster.gateways[0]!.url, { name: 'guesty' });
    const notices = new Map<string, unknown[]>();
    for (const [who, client] of Object.entries({ bob, bobPhone, mallory, alice })) {
      notices.set(who, []);
      client.socket.on('dm:opened', (event) => notices.get(who)!.push(event));
    }

    const { room } = await alice.ok('dm:open', { user: 'bob' });
    expect(room).toMatch(/^dm-[\w-]+\.[\w-]+$/);
    // Bob hears of it on both his connections (gateways 2 and 3), nobody else does.
    const notice = { room, user: { id: 'alice', name: 'alice' } };
    await eventually(() => {
      expect(notices.get('bob')).toEqual([notice]);
      expect(notices.get('bobPhone')).toEqual([notice]);
    });
    expect(notices.get('mallory')).toEqual([]);
    expect(notices.get('alice')).toEqual([]);
    expect(await bob.ok('dm:open', { user: 'alice' })).toEqual({ ok: true, room });
    expect((await mallory.ok('dm:open', { user: 'alice' })).room).not.toBe(room);

    await alice.ok('room:join', { room });
    await bob.ok('room:join', { room });
    await bobPhone.ok('room:join', { room });
    const sent = await alice.ok('message:send', { room, text: 'just between us', clientMsgId: 'dm-1' });
    const again = await alice.ok('message:send', { room, text: 'just between us', clientMsgId: 'dm-1' });
    expect(again.message.seq).toBe(sent.message.seq);
    await eventually(() => {
      expect(bob.inRoom(room).map((m) => m.text)).toEqual(['just between us']);
      expect(bobPhone.inRoom(room).map((m) => m.text)).toEqual(['just between us']);
    });
    const resumed = await bob.ok('room:join', { room, since: { epoch: sent.message.epoch, seq: 0 } });
    expect(resumed.recovered).toBe(true);
    expect(resumed.history.map((m) => m.seq)).toEqual([sent.message.seq]);

    for (const outsider of [mallory, guest]) {
      const answers = [
        await outsider.request('room:join', { room }),
        await outsider.request('message:send', { room, text: 'hi' }),
        await outsider.request('history:get', { room }),
      ];
      for (const answer of answers) expect(answer).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    }
    // A made-up dm- name is no way in either.
    expect(await mallory.request('room:join', { room: 'dm-made.up' })).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });
    expect(mallory.inRoom(room)).toEqual([]);
    expect((await mallory.ok('rooms:list', {})).rooms.map((r) => r.room)).not.toContain(room);
  });
});
