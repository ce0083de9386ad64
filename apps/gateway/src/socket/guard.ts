import { type Ack, isClientEvent } from '@chorus/protocol';
import type { Socket } from 'socket.io';
import type { Logger } from '../logger';

/**
 * First middleware of every socket: every event must be a known name called as `(payload, ack)`.
 * An event without an ack is dropped and logged (there is nobody to answer). An unknown event with an ack
 * is answered `INVALID_PAYLOAD` so the client learns at once instead of timing out.
 */
export function guardEvents(socket: Socket, log: Logger): void {
  socket.use((packet, next) => {
    const [rawEvent, ...args] = packet as [unknown, ...unknown[]];
    const event = String(rawEvent).slice(0, 64);
    const ack = args.at(-1);
    if (typeof ack !== 'function') {
      log.warn({ event, args: args.length }, 'dropped event without ack');
      return;
    }
    const reply = ack as (response: Ack) => void;
    if (!isClientEvent(event)) {
      log.warn({ event }, 'unknown event');
      reply({ ok: false, error: { code: 'INVALID_PAYLOAD', message: `unknown event "${event}"` } });
      return;
    }
    if (args.length !== 2) {
      log.warn({ event, args: args.length }, 'wrong number of arguments');
      reply({ ok: false, error: { code: 'INVALID_PAYLOAD', message: `${event} takes (payload, ack)` } });
      return;
    }
    next();
  });
}
