import type { TypingEvent } from '@chorus/protocol';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryRoomBus } from '../bus/room-bus.memory';
import type { Connection } from '../connection';
import { createTypingService, type TypingService } from './typing.service';

const services: TypingService[] = [];
afterEach(() => {
  for (const service of services.splice(0)) service.close();
});

async function setUp(maxRoomSize = 3) {
  const bus = new MemoryRoomBus();
  const heard: string[] = [];
  await bus.listen({
    message: () => {},
    presence: () => {},
    resync: () => {},
    typing: (event: TypingEvent) => heard.push(`${event.room}:${event.typing}`),
  });
  await bus.subscribe('a');
  await bus.subscribe('b');
  let clock = 1_000_000;
  const typing = createTypingService(bus, pino({ level: 'silent' }), {
    maxRoomSize,
    throttleMs: 1_000,
    now: () => clock,
  });
  services.push(typing);
  const conn = (id: string, user: string, rooms: string[]) =>
    ({ id, user: { id: user, name: user }, rooms: new Set(rooms) }) as unknown as Connection;
  return { typing, heard, conn, tick: (ms: number) => (clock += ms) };
}

describe('typing, per room', () => {
  it("forgets a room's typers and join counts without touching another room's", async () => {
    const { typing, heard, conn, tick } = await setUp();
    const ann = conn('c1', 'ann', ['a', 'b']);
    typing.typing(ann, { room: 'a', typing: true });
    typing.typing(ann, { room: 'b', typing: true });
    tick(10);
    // Inside the throttle window: both refreshes are dropped.
    typing.typing(ann, { room: 'a', typing: true });
    typing.typing(ann, { room: 'b', typing: true });
    expect(heard).toEqual(['a:true', 'b:true']);

    typing.forget('a');
    // Room a starts afresh; room b still remembers ann's start.
    typing.typing(ann, { room: 'a', typing: true });
    typing.typing(ann, { room: 'b', typing: true });
    expect(heard).toEqual(['a:true', 'b:true', 'a:true']);
  });

  it("counts a join's own joined event once, until its room is forgotten", async () => {
    const { typing, heard, conn } = await setUp(2);
    const ann = conn('c1', 'ann', ['a', 'b']);
    const joined = (room: string, except: string) =>
      typing.presence({ room, user: { id: except, name: except }, state: 'joined' }, except);
    // Each join read a count of 2 members (its own user included).
    typing.sized('a', 2, 'c1');
    typing.sized('b', 2, 'c1');
    // The joins' own events are in those counts already: the rooms stay at 2, within the cap.
    joined('a', 'c1');
    joined('b', 'c1');
    typing.typing(ann, { room: 'a', typing: true });
    expect(heard).toEqual(['a:true']);

    // Forgetting a drops its count and its joins; b keeps both.
    typing.forget('a');
    typing.sized('a', 2, 'c2');
    typing.sized('b', 2, 'c3');
    joined('a', 'c1');
    joined('b', 'c3');
    // a: c1's event is news now (3 members, over the cap); b: c3's was counted (2).
    typing.typing(ann, { room: 'a', typing: false });
    typing.typing(ann, { room: 'b', typing: true });
    expect(heard).toEqual(['a:true', 'b:true']);
  });
});
