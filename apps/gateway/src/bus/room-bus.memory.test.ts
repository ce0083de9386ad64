import type { ChatMessage, PresenceEvent, TypingEvent } from '@chorus/protocol';
import { describe, expect, it } from 'vitest';
import { dispatchFrame, encodePresence } from './room-bus';
import { MemoryRoomBus } from './room-bus.memory';

const message = (room: string) => ({ room, seq: 1 }) as ChatMessage;
const presence = (room: string): PresenceEvent => ({ room, user: { id: 'u', name: 'n' }, state: 'joined' });
const typing = (room: string) => ({ room, user: { id: 'u', name: 'n' }, typing: true }) as TypingEvent;

describe('MemoryRoomBus', () => {
  it('hands the listener what is published to the rooms it subscribed to, until it unsubscribes', async () => {
    const bus = new MemoryRoomBus();
    const heard: string[] = [];
    // Nothing listens yet: publishing is a no-op, not an error.
    bus.publishMessage(message('a'));
    await bus.subscribe('a');
    bus.publishMessage(message('a'));
    await bus.listen({
      message: (m) => heard.push(`message ${m.room}`),
      presence: (changes) =>
        heard.push(`presence ${changes.map(({ event, except }) => `${event.room} ${except}`).join(', ')}`),
      typing: (e, except) => heard.push(`typing ${e.room} ${except}`),
      resync: () => {},
    });
    bus.publishMessage(message('a'));
    bus.publishMessage(message('b'));
    await bus.publishPresence([{ event: presence('a'), except: 'c1' }, { event: presence('a') }]);
    await bus.publishPresence([{ event: presence('b') }]);
    await bus.publishTyping(typing('a'), 'c2');
    await bus.publishTyping(typing('b'));
    bus.unsubscribe('a');
    bus.publishMessage(message('a'));
    await bus.publishPresence([{ event: presence('a') }]);
    await bus.publishTyping(typing('a'));
    expect(heard).toEqual(['message a', 'presence a c1, a undefined', 'typing a c2']);
    expect(bus.healthy()).toBe(true);
    bus.close();
  });

  it('carries one presence change in the frame older gateways read, and several of a room in one frame', () => {
    const one = [{ event: presence('a'), except: 'c1' }];
    const several = [
      { event: presence('a'), except: 'c1' },
      { event: { ...presence('a'), state: 'left' as const } },
    ];
    expect(encodePresence(one)).toBe(`p${JSON.stringify({ event: presence('a'), except: 'c1' })}`);
    expect(encodePresence(several).startsWith('b')).toBe(true);
    for (const changes of [one, several]) {
      const heard: unknown[] = [];
      dispatchFrame(encodePresence(changes), {
        message: () => {},
        presence: (c) => heard.push(c),
        resync: () => {},
      });
      expect(heard).toEqual([changes]);
    }
  });

  it('does without a typing handler', async () => {
    const bus = new MemoryRoomBus();
    await bus.listen({ message: () => {}, presence: () => {}, resync: () => {} });
    await bus.subscribe('a');
    await expect(bus.publishTyping(typing('a'))).resolves.toBeUndefined();
  });
});
