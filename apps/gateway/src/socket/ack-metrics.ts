import { isClientEvent } from '@chorus/protocol';
import type { Socket } from 'socket.io';
import type { GatewayMetrics } from '../metrics/metrics';
import { oncePer } from './connections';

type Middleware = Parameters<Socket['use']>[0];

/** One middleware per metrics registry, shared by every socket: it keeps no per-socket state. */
const observerOf = oncePer(ackObserver);

/**
 * Socket middleware, registered before the event guard: times every request from arrival to its ack, by event
 * and outcome (`ok` or the error code), and counts invalid payloads, whoever refused them (the guard, a schema).
 * It wraps the ack in place, which is the function the guard and the handler then receive.
 */
export function observeAcks(socket: Socket, metrics: GatewayMetrics): void {
  socket.use(observerOf(metrics));
}

function ackObserver(metrics: GatewayMetrics): Middleware {
  return (packet, next) => {
    const args = packet as unknown[];
    const ack = args.at(-1);
    if (typeof ack !== 'function') {
      // The guard drops it: nobody can be answered.
      metrics.invalidPayloads.inc({ transport: 'socketio' });
      next();
      return;
    }
    const name = String(args[0]);
    const done = metrics.ackLatency.startTimer({ event: isClientEvent(name) ? name : 'unknown' });
    args[args.length - 1] = (response: unknown) => {
      const outcome = ackOutcome(response);
      done({ outcome });
      if (outcome === 'INVALID_PAYLOAD') metrics.invalidPayloads.inc({ transport: 'socketio' });
      return (ack as (response: unknown) => void)(response);
    };
    next();
  };
}

function ackOutcome(response: unknown): string {
  if (typeof response !== 'object' || response === null) return 'INTERNAL';
  const { ok, error } = response as { ok?: unknown; error?: { code?: unknown } };
  if (ok === true) return 'ok';
  return typeof error?.code === 'string' ? error.code : 'INTERNAL';
}
