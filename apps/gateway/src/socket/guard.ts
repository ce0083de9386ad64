import { type Ack, isClientEvent } from '@chorus/protocol';
import type { Socket } from 'socket.io';
import type { LimitedWarn } from '../limits/log-limiter';
import type { RefusedRequest, RequestBudget } from '../limits/request-budget';

/** Time between deciding to cut a client off and closing its connection. */
const CUT_DELAY_MS = 250;

/**
 * First middleware of every socket: every event must be a known name called as `(payload, ack)`, within the
 * connection's request budget. An event without an ack is dropped (there is nobody to answer). An unknown
 * event with an ack is answered `INVALID_PAYLOAD` so the client learns at once instead of timing out. A
 * request over budget is answered `RATE_LIMITED` with `retryAfterMs`; a client that keeps going after that is
 * disconnected. Warnings go through `warn`, which is rate-limited per client.
 */
export function guardEvents(socket: Socket, warn: LimitedWarn, budget: RequestBudget): void {
  let cut = false;
  socket.use((packet, next) => {
    if (cut) return;
    const args = packet as unknown[];
    const event = String(args[0]).slice(0, 64);
    const ack = args.at(-1);
    if (typeof ack !== 'function') {
      warn({ event, args: args.length - 1 }, 'dropped event without ack');
      return;
    }
    const reply = ack as (response: Ack) => void;
    if (!isClientEvent(event)) {
      warn({ event }, 'unknown event');
      reply({ ok: false, error: { code: 'INVALID_PAYLOAD', message: `unknown event "${event}"` } });
      return;
    }
    if (args.length !== 3) {
      warn({ event, args: args.length - 1 }, 'wrong number of arguments');
      reply({ ok: false, error: { code: 'INVALID_PAYLOAD', message: `${event} takes (payload, ack)` } });
      return;
    }
    let answered: () => void;
    try {
      answered = budget.admit();
    } catch (error) {
      const refused = error as RefusedRequest;
      reply({ ok: false, error: refused.toAckError() });
      if (refused.abusive) {
        // Ignore it from now on, and close once the answers already written had time to go out.
        cut = true;
        warn({ event }, 'disconnecting a client that ignores RATE_LIMITED');
        setTimeout(() => socket.disconnect(true), CUT_DELAY_MS).unref();
      }
      return;
    }
    args[2] = (response: Ack) => {
      answered();
      reply(response);
    };
    next();
  });
}
