import type { ChatMessage } from '@chorus/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { expectGuarantee, rotate } from '../support/chaos';
import { printReport } from '../support/checker';
import { DeliveryHistory } from '../support/delivery-history';
import { useCluster } from '../support/hooks';
import {
  chatFor,
  closeAllParticipants,
  type Participant,
  quiesce,
  sdkParticipant,
} from '../support/participants';
import { rawParticipant } from '../support/raw-participant';
import { sleep } from '../support/wait';

const cluster = useCluster({ gateways: 3 });
afterEach(() => closeAllParticipants());

const ROOM = 'flap';
const FLAPPERS = ['flapper', 'rawflapper'];

/** Drops the engine connection of every socket named `name` on every gateway, as a flaky network would. */
function dropConnectionsOf(name: string): number {
  let dropped = 0;
  for (const g of cluster.gateways) {
    for (const socket of g.gateway.io.of('/').sockets.values()) {
      if (socket.data.user?.name === name) {
        socket.conn.close();
        dropped += 1;
      }
    }
  }
  return dropped;
}

/**
 * Makes some of the flappers' sends lose their ack after they were stored: the connection is dropped between
 * the append and its ack, so the client must retry a send that already happened. Returns the counts.
 */
function loseAcksAfterCommit(probability: number): { acksLost: number; deduplicated: number } {
  const counts = { acksLost: 0, deduplicated: 0 };
  for (const g of cluster.gateways) {
    const store = g.deps.messages;
    const append = store.append.bind(store);
    store.append = async (input) => {
      const result = await append(input);
      if (result.duplicate) counts.deduplicated += 1;
      if (FLAPPERS.includes(input.user.name) && Math.random() < probability) {
        for (const socket of g.gateway.io.of('/').sockets.values()) {
          if (socket.data.user?.id !== input.user.id) continue;
          socket.conn.close();
          counts.acksLost += 1;
        }
      }
      return result;
    };
  }
  return counts;
}

/** Every message of `room` as the store keeps it, oldest first. */
async function storedMessages(room: string): Promise<ChatMessage[]> {
  const page = await cluster.gateways[0]!.deps.messages.after(room, 0, 100_000);
  expect(page.complete).toBe(true);
  return page.messages;
}

describe('a client whose connection keeps dropping while it sends', () => {
  it('gets every send stored exactly once, and its room sees each once, in order', async () => {
    const startedAt = Date.now();
    const urls = cluster.gateways.map((g) => g.url);
    const history = new DeliveryHistory();
    const flappers: Participant[] = [
      sdkParticipant(history, 'flapper', {
        urls,
        reconnectDelayMs: { min: 50, max: 400 },
        ackTimeoutMs: 1_000,
      }),
      rawParticipant(history, 'rawflapper', { urls: rotate(urls, 1), ackTimeoutMs: 1_000 }),
    ];
    const watchers = Array.from({ length: 6 }, (_, i) =>
      sdkParticipant(history, `watcher${i}`, { urls: rotate(urls, i) }),
    );
    const everyone = [...flappers, ...watchers];
    await Promise.all(everyone.map((p) => p.join(ROOM)));

    const faults = loseAcksAfterCommit(0.05);
    let running = true;
    let drops = 0;
    const flapping = (async () => {
      while (running) {
        await sleep(150 + Math.random() * 250);
        for (const name of FLAPPERS) drops += dropConnectionsOf(name);
      }
    })();
    await Promise.all([
      chatFor(flappers, 6_000, { intervalMs: 40 }),
      chatFor(watchers, 6_000, { intervalMs: 500 }),
    ]);
    running = false;
    await flapping;
    await quiesce(history, everyone, { timeoutMs: 20_000 });

    const report = history.check();
    const stored = await storedMessages(ROOM);
    const storedIds = new Map<string, number>();
    for (const m of stored) {
      if (m.clientMsgId) storedIds.set(m.clientMsgId, (storedIds.get(m.clientMsgId) ?? 0) + 1);
    }
    const flapperSends = history.sends.filter((s) => FLAPPERS.includes(s.client));
    const storedTwice = [...storedIds].filter(([, n]) => n > 1);
    const missing = flapperSends.filter(
      (s) => s.outcome.kind === 'acked' && storedIds.get(s.clientMsgId!) !== 1,
    );
    printReport('flapping client (in-process, 3 gateways, 1 SDK + 1 raw flapper, 6 watchers)', report, {
      drops,
      acksLost: faults.acksLost,
      deduped: faults.deduplicated,
      flapperSends: flapperSends.length,
      stored: stored.length,
      runtime: `${((Date.now() - startedAt) / 1000).toFixed(1)}s`,
    });

    expect(drops, 'connections dropped').toBeGreaterThanOrEqual(20);
    expect(faults.acksLost, 'acks lost after the append').toBeGreaterThan(0);
    // Every send whose ack was lost came back with its clientMsgId and was answered from the first append.
    expect(faults.deduplicated).toBeGreaterThanOrEqual(faults.acksLost);
    expect(storedTwice, 'clientMsgIds stored more than once').toEqual([]);
    expect(missing, 'acked sends not stored exactly once').toEqual([]);
    expect(flapperSends.every((s) => s.outcome.kind === 'acked')).toBe(true);
    // Nothing was stored but what was sent, and the store's seqs are 1..n without holes.
    expect(stored.length).toBe(history.sends.length);
    expect(stored.map((m) => m.seq)).toEqual(stored.map((_, i) => i + 1));
    expectGuarantee(report);
    expect(report.totals.resets).toBe(0);
  }, 60_000);
});
