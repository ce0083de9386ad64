import { describe, expect, it } from 'vitest';
import { useRedis } from '../../../../test/support/hooks';
import { uniquePrefix } from '../../../../test/support/redis';
import { sleep } from '../../../../test/support/wait';
import type { PresenceStore } from './presence-store';
import { MemoryPresenceStore } from './presence-store.memory';
import { RedisPresenceStore } from './presence-store.redis';

const alice = { id: 'u1', name: 'alice' };
const bob = { id: 'u2', name: 'bob' };
const carol = { id: 'u3', name: 'carol' };

const redis = useRedis();

/** The users `members` lists (rooms here are small: all of them). */
const who = async (store: PresenceStore, room: string) => (await store.members(room, 100)).users;

type Factory = (options: { nodeTtlMs?: number }) => PresenceStore;
const implementations: [string, Factory][] = [
  ['MemoryPresenceStore', () => new MemoryPresenceStore()],
  [
    'RedisPresenceStore',
    (o) => new RedisPresenceStore(redis.connect(), { prefix: uniquePrefix('presence'), ...o }),
  ],
];

describe.each(implementations)('%s', (_name, create) => {
  it('lists the members of a room across nodes', async () => {
    const store = create({});
    const added = { connection: true, user: true };
    expect(await store.join({ room: 'lobby', connId: 'c1', user: alice, node: 'n1' })).toEqual(added);
    expect(await store.join({ room: 'lobby', connId: 'c2', user: bob, node: 'n2' })).toEqual(added);
    await store.join({ room: 'other', connId: 'c3', user: carol, node: 'n1' });
    const members = await who(store, 'lobby');
    expect(members.map((u) => u.name).sort()).toEqual(['alice', 'bob']);
  });

  it('treats a repeated join as one membership', async () => {
    const store = create({});
    await store.join({ room: 'r', connId: 'c1', user: alice, node: 'n1' });
    expect(await store.join({ room: 'r', connId: 'c1', user: alice, node: 'n1' })).toEqual({
      connection: false,
      user: false,
    });
    expect(await who(store, 'r')).toEqual([alice]);
  });

  it('counts a user with two connections once', async () => {
    const store = create({});
    await store.join({ room: 'r', connId: 'c1', user: alice, node: 'n1' });
    await store.join({ room: 'r', connId: 'c2', user: alice, node: 'n2' });
    expect(await who(store, 'r')).toEqual([alice]);
    expect(await store.rooms({ offset: 0, limit: 10 })).toEqual([{ room: 'r', members: 1 }]);
  });

  it('says a user came in with their first connection and went with their last, across nodes', async () => {
    const store = create({});
    const change = (connection: boolean, user: boolean) => ({ connection, user });
    expect(await store.join({ room: 'r', connId: 'c1', user: alice, node: 'n1' })).toEqual(
      change(true, true),
    );
    expect(await store.join({ room: 'r', connId: 'c2', user: alice, node: 'n2' })).toEqual(
      change(true, false),
    );
    expect(await store.join({ room: 'r', connId: 'c3', user: bob, node: 'n2' })).toEqual(change(true, true));
    expect(await store.leave({ room: 'r', connId: 'c1', user: alice, node: 'n1' })).toEqual(
      change(true, false),
    );
    expect(await who(store, 'r')).toHaveLength(2);
    expect(await store.leave({ room: 'r', connId: 'c2', user: alice, node: 'n2' })).toEqual(
      change(true, true),
    );
    expect(await store.join({ room: 'r', connId: 'c4', user: alice, node: 'n1' })).toEqual(
      change(true, true),
    );
  });

  it('enters a room and lists its members in one call, as join then members would', async () => {
    const store = create({});
    await store.join({ room: 'r', connId: 'c1', user: bob, node: 'n2' });
    const first = await store.enter({ room: 'r', connId: 'c2', user: alice, node: 'n1' }, 10);
    expect(first.change).toEqual({ connection: true, user: true });
    expect(first.members.users.map((u) => u.name).sort()).toEqual(['alice', 'bob']);
    expect(first.members.count).toBe(2);
    const again = await store.enter({ room: 'r', connId: 'c3', user: alice, node: 'n2' }, 1);
    expect(again.change).toEqual({ connection: true, user: false });
    expect(again.members.count).toBe(2);
    expect(again.members.users).toHaveLength(1);
  });

  it('lists public rooms only: private and direct-message rooms stay out of rooms()', async () => {
    const store = create({});
    await store.join({ room: 'open', connId: 'c1', user: alice, node: 'n1' });
    await store.join({ room: 'private-board', connId: 'c2', user: alice, node: 'n1' });
    await store.join({ room: 'private-board', connId: 'c3', user: bob, node: 'n1' });
    await store.join({ room: 'dm-aaaa.bbbb', connId: 'c4', user: bob, node: 'n1' });
    expect(await store.rooms({ offset: 0, limit: 10 })).toEqual([{ room: 'open', members: 1 }]);
    expect((await store.members('private-board', 10)).count).toBe(2);
    await store.leave({ room: 'private-board', connId: 'c2', user: alice, node: 'n1' });
    expect(await store.rooms({ offset: 0, limit: 10 })).toEqual([{ room: 'open', members: 1 }]);
  });

  it('removes a member on leave and drops empty rooms from the list', async () => {
    const store = create({});
    await store.join({ room: 'r', connId: 'c1', user: alice, node: 'n1' });
    expect(await store.leave({ room: 'r', connId: 'c1', user: alice, node: 'n1' })).toEqual({
      connection: true,
      user: true,
    });
    expect(await store.leave({ room: 'r', connId: 'c1', user: alice, node: 'n1' })).toEqual({
      connection: false,
      user: false,
    });
    expect(await who(store, 'r')).toEqual([]);
    expect(await store.rooms({ offset: 0, limit: 10 })).toEqual([]);
  });

  it('lists rooms busiest first, limited', async () => {
    const store = create({});
    await store.join({ room: 'small', connId: 'c1', user: alice, node: 'n1' });
    await store.join({ room: 'big', connId: 'c2', user: alice, node: 'n1' });
    await store.join({ room: 'big', connId: 'c3', user: bob, node: 'n2' });
    await store.join({ room: 'mid', connId: 'c4', user: carol, node: 'n2' });
    expect(await store.rooms({ offset: 0, limit: 2 })).toEqual([
      { room: 'big', members: 2 },
      { room: 'mid', members: 1 },
    ]);
  });

  it('drops every membership of a node that shuts down', async () => {
    const store = create({});
    await store.join({ room: 'a', connId: 'c1', user: alice, node: 'n1' });
    await store.join({ room: 'b', connId: 'c2', user: alice, node: 'n1' });
    await store.join({ room: 'a', connId: 'c3', user: bob, node: 'n2' });
    await store.join({ room: 'a', connId: 'c4', user: bob, node: 'n1' });
    const removed = await store.removeNode('n1');
    // Alice's last connections went with n1; Bob still has one in `a` on n2.
    const byRoom = (a: { room: string }, b: { room: string }) => a.room.localeCompare(b.room);
    expect(removed.departed.sort(byRoom)).toEqual([
      { room: 'a', user: alice },
      { room: 'b', user: alice },
    ]);
    expect(await who(store, 'a')).toEqual([bob]);
    expect(await who(store, 'b')).toEqual([]);
    expect(await store.rooms({ offset: 0, limit: 10 })).toEqual([{ room: 'a', members: 1 }]);
  });

  it('pages the rooms list busiest first, then by name', async () => {
    const store = create({});
    const users = [alice, bob, carol];
    const sizes: [string, number][] = [
      ['b', 1],
      ['a', 1],
      ['c', 3],
      ['d', 2],
      ['e', 1],
    ];
    let conn = 0;
    for (const [room, size] of sizes)
      for (const user of users.slice(0, size))
        await store.join({ room, connId: `c${++conn}`, user, node: 'n1' });
    const pages = [
      await store.rooms({ offset: 0, limit: 2 }),
      await store.rooms({ offset: 2, limit: 2 }),
      await store.rooms({ offset: 4, limit: 2 }),
      await store.rooms({ offset: 6, limit: 2 }),
    ];
    expect(pages.map((page) => page.map((r) => `${r.room}:${r.members}`))).toEqual([
      ['c:3', 'd:2'],
      ['a:1', 'b:1'],
      ['e:1'],
      [],
    ]);
  });

  it('keeps a room listed while any connection of a user is in it', async () => {
    const store = create({});
    await store.join({ room: 'r', connId: 'c1', user: alice, node: 'n1' });
    await store.join({ room: 'r', connId: 'c2', user: alice, node: 'n2' });
    await store.join({ room: 'r', connId: 'c3', user: bob, node: 'n2' });
    await store.leave({ room: 'r', connId: 'c1', user: alice, node: 'n1' });
    expect(await store.rooms({ offset: 0, limit: 10 })).toEqual([{ room: 'r', members: 2 }]);
    await store.removeNode('n2');
    expect(await store.rooms({ offset: 0, limit: 10 })).toEqual([]);
    expect(await who(store, 'r')).toEqual([]);
  });

  it('lists a sample of limit users in a big room, and counts them all', async () => {
    const store = create({});
    for (let i = 0; i < 30; i++) {
      await store.join({ room: 'big', connId: `c${i}`, user: { id: `u${i}`, name: `n${i}` }, node: 'n1' });
    }
    const sample = await store.members('big', 10);
    expect(sample.count).toBe(30);
    expect(sample.users).toHaveLength(10);
    expect(new Set(sample.users.map((u) => u.id)).size).toBe(10);
    expect((await store.members('big', 100)).users).toHaveLength(30);
  });
});

describe('RedisPresenceStore node liveness', () => {
  it('hides and then sweeps the members of a node that stopped heartbeating', async () => {
    const store = implementations[1]![1]({ nodeTtlMs: 300 });
    await store.join({ room: 'a', connId: 'c1', user: alice, node: 'dead' });
    await store.join({ room: 'a', connId: 'c2', user: bob, node: 'live' });
    expect((await who(store, 'a')).length).toBe(2);
    await sleep(400);
    await store.heartbeat('live');
    expect(await who(store, 'a')).toEqual([bob]);
    expect(await store.sweep()).toEqual({ nodes: 1, departed: [{ room: 'a', user: alice }] });
    expect(await store.rooms({ offset: 0, limit: 10 })).toEqual([{ room: 'a', members: 1 }]);
    expect(await store.sweep()).toEqual({ nodes: 0, departed: [] });
    expect(await who(store, 'a')).toEqual([bob]);
  });
});
