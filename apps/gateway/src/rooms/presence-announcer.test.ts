import type { PresenceEvent } from '@chorus/protocol';
import { describe, expect, it } from 'vitest';
import { eventually, sleep } from '../../../../test/support/wait';
import { MemoryRoomBus } from '../bus/room-bus.memory';
import { PresenceAnnouncer } from './presence-announcer';

const alice = { id: 'u1', name: 'alice' };
const bob = { id: 'u2', name: 'bob' };

async function setup() {
  const bus = new MemoryRoomBus();
  const heard: [PresenceEvent['state'], string, string | undefined][] = [];
  await bus.listen({
    message: () => {},
    presence: (e, except) => heard.push([e.state, e.user.name, except]),
    resync: () => {},
  });
  await bus.subscribe('r');
  const announcer = new PresenceAnnouncer(bus, { windowMs: 50, onError: () => {} });
  return { announcer, heard };
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
});
