import type { PresenceEvent } from '@chorus/protocol';
import { describe, expect, it, vi } from 'vitest';
import { eventually, sleep } from '../../../../test/support/wait';
import { MemoryRoomBus } from '../bus/room-bus.memory';
import { PresenceAnnouncer } from './presence-announcer';

const alice = { id: 'u1', name: 'alice' };
const bob = { id: 'u2', name: 'bob' };

async function setup() {
  const bus = new MemoryRoomBus();
  const heard: [PresenceEvent['state'], string, string | undefined][] = [];
  /** How many changes each frame carried. */
  const frames: number[] = [];
  await bus.listen({
    message: () => {},
    presence: (changes) => {
      frames.push(changes.length);
      for (const { event, except } of changes) heard.push([event.state, event.user.name, except]);
    },
    resync: () => {},
  });
  await bus.subscribe('r');
  const announcer = new PresenceAnnouncer(bus, { windowMs: 50, onError: () => {} });
  return { announcer, heard, frames };
}

describe('PresenceAnnouncer', () => {
  it('announces a change at once, and keeps who not to tell', async () => {
    const { announcer, heard } = await setup();
    announcer.announce({ room: 'r', user: alice, state: 'joined' }, 'conn-a');
    expect(heard).toEqual([['joined', 'alice', 'conn-a']]);
  });

  it('announces a leave right after a join at the end of the window', async () => {
    const { announcer, heard } = await setup();
    announcer.announce({ room: 'r', user: alice, state: 'joined' });
    announcer.announce({ room: 'r', user: alice, state: 'left' });
    expect(heard).toEqual([['joined', 'alice', undefined]]);
    await eventually(() =>
      expect(heard).toEqual([
        ['joined', 'alice', undefined],
        ['left', 'alice', undefined],
      ]),
    );
  });

  it('holds a join/leave storm of one user to one event per window, leaving others unaffected', async () => {
    const { announcer, heard } = await setup();
    const until = Date.now() + 300;
    let cycles = 0;
    while (Date.now() < until) {
      announcer.announce({ room: 'r', user: alice, state: 'joined' });
      announcer.announce({ room: 'r', user: alice, state: 'left' });
      cycles += 1;
      if (cycles % 50 === 0) await sleep(5);
    }
    announcer.announce({ room: 'r', user: bob, state: 'joined' });
    await sleep(120);
    const aliceEvents = heard.filter(([, name]) => name === 'alice');
    expect(cycles).toBeGreaterThan(100);
    // 300 ms in windows of 50 ms: one event each, at most.
    expect(aliceEvents.length).toBeLessThanOrEqual(9);
    expect(aliceEvents.at(-1)?.[0]).toBe('left');
    expect(heard).toContainEqual(['joined', 'bob', undefined]);
  });

  it('sends the users who come within a window in one frame, each once with their final state', async () => {
    const { announcer, heard, frames } = await setup();
    const users = Array.from({ length: 50 }, (_, i) => ({ id: `u${i}`, name: `user${i}` }));
    for (const user of users) announcer.announce({ room: 'r', user, state: 'joined' }, `conn-${user.id}`);
    // One of them leaves again within the window: the room hears it left, not that it came.
    announcer.announce({ room: 'r', user: users[7]!, state: 'left' });
    expect(frames).toEqual([1]);
    await eventually(() => expect(frames).toEqual([1, 49]));
    expect(heard[0]).toEqual(['joined', 'user0', 'conn-u0']);
    expect(heard).toContainEqual(['joined', 'user1', 'conn-u1']);
    expect(heard).toContainEqual(['left', 'user7', undefined]);
    expect(heard).not.toContainEqual(['joined', 'user7', 'conn-u7']);
    expect(heard).toHaveLength(50);
  });

  it('keeps rooms apart: a change in another room goes out at once', async () => {
    const { announcer, heard } = await setup();
    announcer.announce({ room: 'r', user: alice, state: 'joined' });
    announcer.announce({ room: 'r', user: bob, state: 'joined' });
    announcer.announce({ room: 's', user: bob, state: 'joined' });
    // 's' is not subscribed on this bus: nothing heard from it, and 'r''s second join waits.
    expect(heard).toEqual([['joined', 'alice', undefined]]);
    await eventually(() => expect(heard).toContainEqual(['joined', 'bob', undefined]));
  });

  it('sends what waits at once when the window has passed by the next change, in one frame with it', async () => {
    const { announcer, heard, frames } = await setup();
    vi.useFakeTimers();
    try {
      announcer.announce({ room: 'r', user: alice, state: 'joined' });
      announcer.announce({ room: 'r', user: alice, state: 'left' });
      // The window passed, but its timer has not fired yet: what waits and the new change leave together.
      vi.setSystemTime(Date.now() + 60);
      announcer.announce({ room: 'r', user: bob, state: 'joined' });
    } finally {
      vi.useRealTimers();
    }
    expect(heard.slice(0, 3)).toEqual([
      ['joined', 'alice', undefined],
      ['left', 'alice', undefined],
      ['joined', 'bob', undefined],
    ]);
    expect(frames.slice(0, 2)).toEqual([1, 2]);
  });
});
