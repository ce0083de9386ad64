import type { Ack, ChatMessage, RoomJoinResult } from '@chorus/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { expectGuarantee } from '../support/chaos';
import { printReport } from '../support/checker';
import { connectClient } from '../support/clients';
import { DeliveryHistory } from '../support/delivery-history';
import { useCluster } from '../support/hooks';
import { chatFor, closeAllParticipants, quiesce, sdkParticipant } from '../support/participants';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { eventually } from '../support/wait';

const cluster = useCluster({ gateways: 2, historyCap: 100 });
const gates: TcpProxy[] = [];
afterEach(async () => {
  closeAllParticipants();
  await Promise.all(gates.splice(0).map((g) => g.close()));
});

const ROOM = 'trim';

type Seen = { kind: 'message'; message: ChatMessage } | { kind: 'reset'; history: ChatMessage[] };

describe('a member away while more than the kept history is posted', () => {
  it('is told its gap is gone, reloads the latest history once, then follows live messages without a gap', async () => {
    const startedAt = Date.now();
    const [a, b] = cluster.gateways;
    const history = new DeliveryHistory();
    const sender = sdkParticipant(history, 'sender', { urls: [a!.url] });
    const watcher = sdkParticipant(history, 'watcher', { urls: [b!.url] });
    // The reader reaches gateway B through a proxy that can cut it off, like a client losing its network.
    const gate = await startTcpProxy({ host: '127.0.0.1', port: b!.port });
    gates.push(gate);
    const laggard = sdkParticipant(history, 'laggard', {
      urls: [`http://127.0.0.1:${gate.port}`],
      reconnectDelayMs: { min: 50, max: 300 },
    });
    const seen: Seen[] = [];
    laggard.client.on('message', (message) => seen.push({ kind: 'message', message }));
    laggard.client.on('reset', (e) => seen.push({ kind: 'reset', history: e.history }));
    for (const p of [sender, watcher, laggard]) await p.join(ROOM);

    const sendMany = async (n: number) => {
      for (let i = 0; i < n; i++) sender.send(ROOM);
      // The SDK sends a room's messages one at a time, in order: 350 take a few hundred round trips.
      await eventually(() => sender.pending() === 0, { timeoutMs: 30_000 });
    };
    await sendMany(20);
    await eventually(() => seen.length === 20);
    const before = seen.map((s) => (s.kind === 'message' ? s.message : undefined));
    const epoch = before[0]!.epoch;

    gate.down();
    await eventually(() => laggard.client.state === 'reconnecting');
    await sendMany(350);
    // The log no longer reaches back to the laggard's position: a resuming join says so.
    const store = a!.deps.messages;
    expect((await store.after(ROOM, 20, 1)).complete).toBe(false);
    const probe = await connectClient(a!.url, { name: 'probe' });
    const resumed = (await probe.request('room:join', {
      room: ROOM,
      since: { epoch, seq: 20 },
    })) as Ack<RoomJoinResult>;
    expect(resumed).toMatchObject({ ok: true, recovered: false, epoch });
    const probeHistory = resumed.ok ? resumed.history.map((m) => m.seq) : [];
    expect(probeHistory).toEqual(Array.from({ length: 50 }, (_, i) => 321 + i));
    probe.close();

    // The laggard comes back while the room keeps talking.
    const talking = chatFor([sender], 2_000, { intervalMs: 30 });
    gate.up();
    await talking;
    await quiesce(history, [sender, watcher, laggard], { timeoutMs: 10_000 });

    const report = history.check();
    const resets = seen.filter((s) => s.kind === 'reset');
    printReport('history trimmed while away (in-process, HISTORY_CAP 100, 370+ messages)', report, {
      away: 350,
      reloaded: resets[0]?.history.length ?? 0,
      runtime: `${((Date.now() - startedAt) / 1000).toFixed(1)}s`,
    });
    expect(resets).toHaveLength(1);
    const reloadAt = seen.findIndex((s) => s.kind === 'reset');
    const reload = resets[0]!.history;
    // Before: 1..20. The reload: the latest 50 in the same epoch, plus what arrived live while the join read
    // them (the sender keeps talking). After: every later seq, in order, once.
    expect(seen.slice(0, reloadAt).map((s) => (s.kind === 'message' ? s.message.seq : -1))).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    expect(reload.length).toBeGreaterThanOrEqual(50);
    expect(reload.length).toBeLessThan(60);
    expect(reload.map((m) => m.seq)).toEqual(
      Array.from({ length: reload.length }, (_, i) => reload[0]!.seq + i),
    );
    expect(reload.every((m) => m.epoch === epoch)).toBe(true);
    expect(reload[0]!.seq).toBeGreaterThan(370 - 50);
    const after = seen.slice(reloadAt + 1).map((s) => (s.kind === 'message' ? s.message.seq : -1));
    const last = reload.at(-1)!.seq;
    const final = history.sends.length;
    expect(after.length).toBeGreaterThan(0);
    expect(after).toEqual(Array.from({ length: final - last }, (_, i) => last + 1 + i));
    // The others saw everything; the laggard only lacks what the reload forgave.
    expectGuarantee(report);
    expect(report.totals.pending).toBe(0);
  }, 60_000);
});
