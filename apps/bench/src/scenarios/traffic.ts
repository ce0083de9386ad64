import { setTimeout as sleep } from 'node:timers/promises';
import { closeClients, connectClients, joinRoom } from '../client/connect';
import { openCpuWindow } from '../measure/cpu';
import { LatencyRecorder } from '../measure/hdr';
import type { RunningTarget } from '../targets/target';
import type { Placement, RunContext, RunMeasurement } from './scenario';

/** The shape of an open-loop chat load. */
export interface TrafficShape {
  clients: number;
  /** Clients per room; equal to `clients` for one big room. */
  roomSize: number;
  /** Messages per second, all rooms together. */
  ratePerS: number;
  durationMs: number;
  /** Indexes of the target's gateways that get clients; default all of them. */
  hostGateways?: readonly number[];
  /** `spread` (default): client i on host i mod hosts; `room`: every member of room r on host r mod hosts. */
  placement?: Placement;
}

/**
 * The gateway URL of each client, client i being in room floor(i / roomSize): `spread` takes the gateways in
 * turn per client, `room` per room. (connectClients takes URLs round-robin, so one per client is a placement.)
 */
export function placeClients(
  urls: readonly string[],
  clients: number,
  roomSize: number,
  placement: Placement,
): string[] {
  return Array.from({ length: clients }, (_, i) => {
    const slot = placement === 'room' ? Math.floor(i / roomSize) : i;
    return urls[slot % urls.length]!;
  });
}

/**
 * Connects `clients` clients to the gateways as `placement` says, puts each `roomSize` consecutive clients in one
 * room (spread: a room's members sit on different gateways; room: on one), then sends `ratePerS` messages a second for `durationMs` on
 * a fixed schedule and counts every delivery.
 *
 * The schedule is open-loop: message k is due at `t0 + k / rate` whatever happened before; a late timer sends
 * everything due at once, and every latency is measured from the intended time, so a server that stalls the
 * bench shows up in the latency instead of quietly lowering the load (no coordinated omission). Message k goes
 * to room `k mod rooms`, from that room's members in turn, so every client sends at about the same slow rate.
 */
export async function runTraffic(
  target: RunningTarget,
  shape: TrafficShape,
  context: RunContext,
): Promise<RunMeasurement> {
  const hosts = shape.hostGateways ?? target.gateways.map((_, i) => i);
  const { clients, roomSize } = shape;
  const hostUrls = hosts.map((i) => target.gateways[i]!.url);
  const urls = placeClients(hostUrls, clients, roomSize, shape.placement ?? 'spread');
  const rooms = Math.ceil(clients / roomSize);
  const membersOf = (room: number) => Math.min(roomSize, clients - room * roomSize);
  const roomName = (room: number) => `${context.tag}-${room}`;

  context.status(`connecting ${clients} clients to ${hostUrls.length} gateway(s)`);
  const sockets = await connectClients(urls, clients, {
    onConnected: (n) => n % 500 === 0 && context.status(`connected ${n}/${clients}`),
  });
  try {
    const joined = await Promise.all(sockets.map((s, i) => joinRoom(s, roomName(Math.floor(i / roomSize)))));
    const refused = joined.filter((ok) => !ok).length;
    if (refused > 0) throw new Error(`${refused} of ${clients} clients could not join their room`);

    const total = Math.max(1, Math.round((shape.ratePerS * shape.durationMs) / 1000));
    const intervalMs = 1000 / shape.ratePerS;
    const padding = ' '.padEnd(Math.max(1, context.settings.textBytes - String(total).length), 'x');
    const deliveries = new Uint32Array(total);
    const acked = new Uint8Array(total);
    const latency = new LatencyRecorder();
    const ackLatency = new LatencyRecorder();
    const errors: Record<string, number> = {};
    let t0 = Number.POSITIVE_INFINITY;
    let delivered = 0;
    let expected = 0;
    let answered = 0;
    let ackedCount = 0;
    let lastEvent = 0;
    let maxSendLagMs = 0;

    for (const socket of sockets) {
      socket.on('message', (message) => {
        const now = performance.now();
        // The text starts with k; parseInt stops at the padding.
        const k = Number.parseInt(message.text, 10);
        if (!(k >= 0 && k < total)) return;
        deliveries[k]! += 1;
        delivered += 1;
        lastEvent = now;
        latency.record(now - (t0 + k * intervalMs));
      });
    }
    // Joins announce presence to the other members; let that traffic pass before the window opens.
    await sleep(context.settings.pauseMs);

    const send = (k: number) => {
      const room = k % rooms;
      const sender = room * roomSize + (Math.floor(k / rooms) % membersOf(room));
      const intended = t0 + k * intervalMs;
      maxSendLagMs = Math.max(maxSendLagMs, performance.now() - intended);
      sockets[sender]!.emit(
        'message:send',
        { room: roomName(room), text: `${k}${padding}`, clientMsgId: `${context.tag}-${k}` },
        (response) => {
          const now = performance.now();
          answered += 1;
          lastEvent = now;
          if (response.ok) {
            acked[k] = 1;
            ackedCount += 1;
            expected += membersOf(room);
            ackLatency.record(now - intended);
          } else {
            errors[response.error.code] = (errors[response.error.code] ?? 0) + 1;
          }
        },
      );
    };

    const cpu = openCpuWindow(target.processes);
    t0 = performance.now() + 5;
    let next = 0;
    const report = setInterval(() => {
      const p99 = latency.summary()?.p99;
      context.status(
        `sent ${next}/${total}, delivered ${delivered}/${expected}` +
          (p99 === undefined ? '' : `, p99 ${p99} ms`),
      );
    }, 1_000);
    try {
      await new Promise<void>((resolve) => {
        const tick = () => {
          const due = Math.min(total, Math.floor((performance.now() - t0) / intervalMs) + 1);
          while (next < due) send(next++);
          if (next >= total) return resolve();
          setTimeout(tick, Math.max(0, t0 + next * intervalMs - performance.now()));
        };
        setTimeout(tick, 5);
      });
      const deadline = performance.now() + context.settings.settleMs;
      while (performance.now() < deadline && (answered < total || delivered < expected)) await sleep(20);
    } finally {
      clearInterval(report);
    }
    const cpuReport = cpu.stop();

    let missing = 0;
    let duplicates = 0;
    for (let k = 0; k < total; k++) {
      const room = k % rooms;
      const got = deliveries[k]!;
      if (acked[k] === 1 && got < membersOf(room)) missing += membersOf(room) - got;
      if (got > membersOf(room)) duplicates += got - membersOf(room);
    }
    const measurement: RunMeasurement = {
      windowS: Math.max(0, Math.round(lastEvent - t0)) / 1000,
      sent: total,
      acked: ackedCount,
      failed: total - ackedCount,
      delivered,
      expected,
      missing,
      duplicates,
      latencyMs: latency.summary(),
      ackLatencyMs: ackLatency.summary(),
      cpu: cpuReport,
      errors,
      extra: { maxSendLagMs: Math.round(maxSendLagMs * 10) / 10 },
    };
    latency.destroy();
    ackLatency.destroy();
    return measurement;
  } finally {
    closeClients(sockets);
    // Let the servers see the disconnects before the next run opens its window.
    await sleep(context.settings.pauseMs);
  }
}
