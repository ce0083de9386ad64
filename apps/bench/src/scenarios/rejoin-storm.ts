import { setTimeout as sleep } from 'node:timers/promises';
import { closeClients, connectClients } from '../client/connect';
import { openCpuWindow } from '../measure/cpu';
import { fileLimitProblem } from '../measure/fd-limit';
import { LatencyRecorder } from '../measure/hdr';
import { type Scenario, ScenarioSkipped } from './scenario';

/**
 * N clients already connected to one gateway all send `room:join` at once, as after a gateway restart: joins per
 * second from the first join sent to the last ack, each join's latency from that start, and the presence frames
 * the clients received (`presence` and `presence:batch` events) per join: n² for rooms of n, told user by user.
 */
export const rejoinStorm: Scenario = {
  id: 'rejoin-storm',
  describe: (s) =>
    `${s.rejoinStorm.clients} clients on gateway 1 join rooms of ${s.rejoinStorm.roomSize} all at once; joins per second, presence frames they cause`,
  layout: 'storm',
  headline: { key: 'extra.joinsPerS', label: 'joins per second', higherIsBetter: true },
  extraColumns: [],
  unsupported: () => undefined,
  async run(target, context) {
    const { clients, roomSize } = context.settings.rejoinStorm;
    const limitProblem = fileLimitProblem(clients);
    if (limitProblem) throw new ScenarioSkipped(limitProblem);
    const sockets = await connectClients([target.gateways[0]!.url], clients, {
      onConnected: (n) => n % 500 === 0 && context.status(`connected ${n}/${clients}`),
    });
    let presenceFrames = 0;
    const countFrame = () => {
      presenceFrames += 1;
    };
    for (const socket of sockets) {
      socket.on('presence', countFrame);
      socket.on('presence:batch', countFrame);
    }
    try {
      await sleep(context.settings.pauseMs);
      const latency = new LatencyRecorder();
      const errors: Record<string, number> = {};
      let acked = 0;
      let answered = 0;
      let last = 0;
      const cpu = openCpuWindow(target.processes);
      const t0 = performance.now();
      context.status(`${clients} joins in flight`);
      await new Promise<void>((resolve) => {
        for (const [i, socket] of sockets.entries()) {
          const room = `${context.tag}-${Math.floor(i / roomSize)}`;
          socket.timeout(context.settings.settleMs).emit('room:join', { room }, (error, response) => {
            last = performance.now();
            answered += 1;
            if (!error && response.ok) {
              acked += 1;
              latency.record(last - t0);
            } else {
              const code = error ? 'TIMEOUT' : response.ok ? 'OK' : response.error.code;
              errors[code] = (errors[code] ?? 0) + 1;
            }
            if (answered === clients) resolve();
          });
        }
      });
      const cpuReport = cpu.stop();
      // Presence the storm caused that was still on its way (the last window's batch).
      await sleep(context.settings.pauseMs);
      const elapsedS = (last - t0) / 1000;
      const measurement = {
        windowS: Math.round(elapsedS * 1000) / 1000,
        sent: clients,
        acked,
        failed: clients - acked,
        delivered: 0,
        expected: 0,
        missing: 0,
        duplicates: 0,
        latencyMs: latency.summary(),
        ackLatencyMs: latency.summary(),
        cpu: cpuReport,
        errors,
        extra: {
          joinsPerS: elapsedS > 0 ? Math.round(acked / elapsedS) : null,
          cpuPerJoinUs: cpuReport && acked > 0 ? Math.round((cpuReport.totalS * 1e6) / acked) : null,
          presenceFramesPerJoin: acked > 0 ? Math.round((presenceFrames / acked) * 100) / 100 : null,
        },
      };
      latency.destroy();
      return measurement;
    } finally {
      closeClients(sockets);
      await sleep(context.settings.pauseMs);
    }
  },
};
