import type { ChatMessage } from '@chorus/protocol';
import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { eventually } from '../../../../test/support/wait';
import { MemoryRoomBus } from '../bus/room-bus.memory';
import { MemoryMessageStore } from './message-store.memory';
import { RoomFeed } from './room-feed';

/**
 * The sequencer against a simple model: whatever order the feed hears a room's messages in, with duplicates,
 * losses (gaps) and resyncs in between, local members get every seq exactly once, in order, with nothing extra.
 */
describe('RoomFeed, any interleaving', () => {
  it('delivers 1..n once and in order whatever the feed hears', async () => {
    const step = fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant('hear' as const), pick: fc.nat() }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('resync' as const) }) },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.array(step, { maxLength: 120 }),
        async (n, steps) => {
          const store = new MemoryMessageStore();
          const delivered: number[] = [];
          const feed = new RoomFeed({
            store,
            bus: new MemoryRoomBus(),
            logger: pino({ level: 'silent' }),
            deliver: (m) => delivered.push(m.seq),
            reset: () => {
              throw new Error('no reset expected: nothing was trimmed and the epoch never changed');
            },
            retryMs: 1,
          });
          await feed.track('r');
          const log: ChatMessage[] = [];
          for (let i = 0; i < n; i++)
            log.push(
              (await store.append({ room: 'r', user: { id: 'u', name: 'u' }, text: `${i}`, ts: 1 })).message,
            );
          // A member joined the empty room before any of them: the sequencer starts at seq 0 of this epoch.
          feed.seen('r', log[0]!.epoch, 0);
          // The feed hears some messages (maybe twice, in any order) and misses others; then one resync, as after a
          // reconnect, and the last message, as the live feed would carry it.
          const heard: ChatMessage[] = [];
          for (const s of steps) {
            if (s.kind === 'hear') heard.push(log[s.pick % n]!);
            else if (s.kind === 'duplicate' && heard.length > 0) heard.push(heard[s.pick % heard.length]!);
            else if (s.kind === 'resync') feed.resync();
            const m = heard.at(-1);
            if (m && (s.kind === 'hear' || s.kind === 'duplicate')) feed.message(m);
          }
          feed.resync();
          feed.message(log.at(-1)!);
          await eventually(() => expect(delivered.at(-1)).toBe(n), { timeoutMs: 2_000, intervalMs: 2 });
          expect(delivered).toEqual(Array.from({ length: n }, (_, i) => i + 1));
          feed.close();
        },
      ),
      { numRuns: 300, seed: 20261201 },
    );
  });
});
