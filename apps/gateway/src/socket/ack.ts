import { type Ack, type AckError, ChorusError, parsePayload } from '@chorus/protocol';
import type { Socket } from 'socket.io';
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
  return (payload, ack) => answer(event, log, ack, () => handler(parsePayload(schema, payload)));
}

/**
 * `withAck` for a handler that every socket shares: the listener finds its socket's context (which carries the
 * socket's logger) through `contextOf(this)`, so registering it costs a socket one listener entry instead of
 * a closure per socket and event.
 *
 * @example
 * const send = sharedAck('message:send', MessageSendSchema, connectionOf, (conn, payload) => chat.send(conn, payload));
 * socket.on('message:send', send);
 */
export function sharedAck<S extends z.ZodType, R extends object, C extends { readonly log: Logger }>(
  event: string,
  schema: S,
  contextOf: (socket: Socket) => C | undefined,
  handler: (context: C, payload: z.output<S>) => Promise<R>,
): (this: Socket, payload: unknown, ack: (response: Ack<R>) => void) => void {
  return function (this: Socket, payload, ack) {
    const context = contextOf(this);
    // Registered before its context existed: a wiring bug, answered like any other unexpected error.
    if (!context) return ack({ ok: false, error: { code: 'INTERNAL', message: 'internal error' } });
    answer(event, context.log, ack, () => handler(context, parsePayload(schema, payload)));
  };
}

function answer<R extends object>(
  event: string,
  log: Logger,
  ack: (response: Ack<R>) => void,
  run: () => Promise<R>,
): void {
  const respond = (response: Ack<R>) => {
    try {
      ack(response);
    } catch (error) {
      log.error({ event, err: error }, 'ack failed');
    }
  };
  Promise.resolve()
    .then(run)
    .then(
      (result) => respond({ ok: true, ...result }),
      (error: unknown) => respond({ ok: false, error: toAckError(error, log, event) }),
    );
}
