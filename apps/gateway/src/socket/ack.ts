import { type Ack, type AckError, ChorusError, parsePayload } from '@chorus/protocol';
import type { z } from 'zod';
import type { Logger } from '../logger';

/**
 * Maps any error to what the client may see: a `ChorusError` keeps its code; anything else is logged and
 * reaches the client as a generic `INTERNAL`.
 */
export function toAckError(error: unknown, log: Logger, event: string): AckError {
  if (error instanceof ChorusError) {
    if (error.code === 'UNAVAILABLE') log.warn({ event }, 'backing store unavailable');
    return error.toAckError();
  }
  log.error({ event, err: error }, 'handler failed');
  return { code: 'INTERNAL', message: 'internal error' };
}

/**
 * Wraps a feature handler: parses the payload with `schema`, runs `handler`, and answers the ack with
 * `{ ok: true, ...result }` or `{ ok: false, error }`. Never throws, whatever the client sent.
 */
export function withAck<S extends z.ZodType, R extends object>(
  event: string,
  schema: S,
  log: Logger,
  handler: (payload: z.output<S>) => Promise<R>,
): (payload: unknown, ack: (response: Ack<R>) => void) => void {
  return (payload, ack) => {
    const respond = (response: Ack<R>) => {
      try {
        ack(response);
      } catch (error) {
        log.error({ event, err: error }, 'ack failed');
      }
    };
    Promise.resolve()
      .then(() => handler(parsePayload(schema, payload)))
      .then(
        (result) => respond({ ok: true, ...result }),
        (error: unknown) => respond({ ok: false, error: toAckError(error, log, event) }),
      );
  };
}
