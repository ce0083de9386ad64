import { createChorusClient } from '@chorus/client';
import type { ChatMessage } from '@chorus/protocol';
import { percentile } from './stats';

export interface LoadOptions {
  /** Gateway or load-balancer URLs; clients are spread over them. */
  urls: string[];
  clients: number;
  rooms: number;
  /** Messages per second per client. */
  rate: number;
  durationMs: number;
  transports?: ('websocket' | 'polling')[];
  /** Printed while running, e.g. console.log; omitted means quiet. */
  progress?: (line: string) => void;
}

export interface LoadReport {
  clients: number;
  rooms: number;
  durationMs: number;
  sent: number;
  acked: number;
  failed: number;
  delivered: number;
  /** Acked messages per second over the run. */
  throughput: number;
  ackLatencyMs: { p50: number; p99: number; max: number };
  /** From the server's append time to arrival at a receiving client (same-host clocks). */
  deliveryLatencyMs: { p50: number; p99: number; max: number };
  /** Acked messages some member of their room never received, and deliveries seen twice by one client. */
  lost: number;
  duplicated: number;
}

/**
 * Runs `clients` SDK clients, each in one of `rooms` rooms, each sending `rate` messages per second for
 * `durationMs`, then waits for deliveries to settle and counts. Every client joins before anyone sends, so each
 * acked message must reach every member of its room exactly once.
 */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const log = options.progress ?? (() => {});
  const participants = Array.from({ length: options.clients }, (_, i) => {
    const client = createChorusClient({
      urls: rotate(options.urls, i),
      name: `load-${i}`,
      ...(options.transports ? { transports: options.transports } : {}),
    });
    return { client, room: `load-${i % options.rooms}`, seen: new Set<number>(), duplicates: 0 };
  });
  const deliveryLatency: number[] = [];
  for (const p of participants) {
    p.client.on('message', (m: ChatMessage) => {
      if (m.room !== p.room) return;
      if (p.seen.has(m.seq)) p.duplicates += 1;
      p.seen.add(m.seq);
      deliveryLatency.push(Date.now() - m.ts);
    });
  }
  try {
    const joined = Promise.all(participants.map((p) => p.client.join(p.room)));
    const joinTimeout = new Promise<never>((_, reject) => {
      const timer = setTimeout(() => {
        const waiting = participants.filter((p) => p.client.state !== 'connected').length;
        reject(
          new Error(`${waiting} of ${participants.length} clients could not connect and join within 30 s`),
        );
      }, 30_000);
      void joined.finally(() => clearTimeout(timer));
    });
    await Promise.race([joined, joinTimeout]);
    log(`${options.clients} clients joined ${options.rooms} rooms`);

    const acked = new Map<string, Set<number>>();
    const ackLatency: number[] = [];
    let sent = 0;
    let failed = 0;
    const inFlight: Promise<void>[] = [];
    const started = Date.now();
    const interval = 1000 / options.rate;
    await Promise.all(
      participants.map(async (p, i) => {
        // Spread the first sends over one interval so clients do not fire in lockstep.
        await sleep((interval * i) / participants.length);
        for (let n = 0; Date.now() - started < options.durationMs; n++) {
          const t0 = Date.now();
          sent += 1;
          inFlight.push(
            p.client.send(p.room, `load ${i}:${n}`).then(
              (message) => {
                ackLatency.push(Date.now() - t0);
                let set = acked.get(p.room);
                if (!set) {
                  set = new Set();
                  acked.set(p.room, set);
                }
                set.add(message.seq);
              },
              () => {
                failed += 1;
              },
            ),
          );
          // Keep to the schedule: a slow ack does not slow the sender down (the outbox absorbs it).
          await sleep(Math.max(0, started + (n + 1) * interval - Date.now()));
        }
      }),
    );
    const elapsed = Date.now() - started;
    await Promise.all(inFlight);
    log(`sent ${sent} in ${elapsed} ms; waiting for deliveries to settle`);

    const missingFor = (p: (typeof participants)[number]) =>
      [...(acked.get(p.room) ?? [])].filter((seq) => !p.seen.has(seq)).length;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && participants.some((p) => missingFor(p) > 0)) await sleep(50);

    const ackedCount = [...acked.values()].reduce((n, s) => n + s.size, 0);
    return {
      clients: options.clients,
      rooms: options.rooms,
      durationMs: elapsed,
      sent,
      acked: ackedCount,
      failed,
      delivered: participants.reduce((n, p) => n + p.seen.size, 0),
      throughput: Math.round((ackedCount / elapsed) * 1000),
      ackLatencyMs: summary(ackLatency),
      deliveryLatencyMs: summary(deliveryLatency),
      lost: participants.reduce((n, p) => n + missingFor(p), 0),
      duplicated: participants.reduce((n, p) => n + p.duplicates, 0),
    };
  } finally {
    for (const p of participants) p.client.close();
  }
}

/** p50, p99 and max of `values` (NaN when there are none). */
export function summary(values: number[]) {
  const max = values.length === 0 ? Number.NaN : values.reduce((m, v) => Math.max(v, m), values[0]!);
  return { p50: percentile(values, 50), p99: percentile(values, 99), max };
}

function rotate<T>(items: T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
