/**
 * The closed list of error codes a client can see, in an ack's `error.code` or a handshake error's `data.code`.
 * New codes may be added; existing ones are never renamed.
 */
export const ERROR_CODES = [
  /** The payload failed its schema: wrong types, unknown keys, out-of-range lengths, or an unknown event. */
  'INVALID_PAYLOAD',
  /** The socket sent to, or read from, a room it has not joined. */
  'NOT_IN_ROOM',
  /** The socket sends faster than its budget allows; retry later. */
  'RATE_LIMITED',
  /** The handshake lacked valid credentials. */
  'UNAUTHORIZED',
  /** The action is not allowed for this socket (e.g. too many rooms). */
  'FORBIDDEN',
  /** A backing service (Redis) is unreachable; the action did not happen and may be retried. */
  'UNAVAILABLE',
  /** An unexpected server error; the action may or may not have happened. */
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * The error half of every ack. `details` carries schema issues for `INVALID_PAYLOAD`; `retryAfterMs` comes
 * with `RATE_LIMITED`: how long to wait before the same request can succeed.
 */
export interface AckError {
  code: ErrorCode;
  message: string;
  details?: PayloadIssue[];
  retryAfterMs?: number;
}

/** One schema violation: where in the payload, and what is wrong. */
export interface PayloadIssue {
  path: string;
  message: string;
}

/** An error whose code is safe to show to the client. Anything else reaches the client as `INTERNAL`. */
export class ChorusError extends Error {
  readonly code: ErrorCode;
  readonly details: PayloadIssue[] | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, details?: PayloadIssue[], retryAfterMs?: number) {
    super(message);
    this.name = 'ChorusError';
    this.code = code;
    this.details = details;
    this.retryAfterMs = retryAfterMs;
  }

  /** A `RATE_LIMITED` error telling the client when to try again. */
  static rateLimited(message: string, retryAfterMs: number): ChorusError {
    return new ChorusError('RATE_LIMITED', message, undefined, Math.max(1, Math.ceil(retryAfterMs)));
  }

  toAckError(): AckError {
    return {
      code: this.code,
      message: this.message,
      ...(this.details ? { details: this.details } : {}),
      ...(this.retryAfterMs !== undefined ? { retryAfterMs: this.retryAfterMs } : {}),
    };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}
