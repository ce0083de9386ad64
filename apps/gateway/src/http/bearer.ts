import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { FailureLockout } from '../limits/failure-lockout';
import { limitedWarn } from '../limits/log-limiter';
import type { Logger } from '../logger';
import type { AddressOf } from './client-address';

/**
 * A check of `Authorization: Bearer <secret>`. Digests are compared, so the comparison takes the same time
 * whatever was sent (its length included).
 */
export function bearerCheck(secret: string): (req: Request) => boolean {
  const expected = digest(secret);
  return (req) => {
    const match = /^Bearer (\S+)$/.exec(req.get('authorization') ?? '');
    return match !== null && timingSafeEqual(digest(match[1]!), expected);
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Why a bearer gate turned a request away; the caller answers in its own error format. */
export type BearerRefusal = { code: 'RATE_LIMITED'; retryAfterMs: number } | { code: 'UNAUTHORIZED' };

export interface BearerGateOptions {
  secret: string;
  /** `WWW-Authenticate` realm, also the refusals' log line (`<realm> request refused`). */
  realm: string;
  /** Who sent a request (behind a trusted balancer, the client it names): wrong secrets lock out that address. */
  addressOf: AddressOf;
  logger: Logger;
}

/**
 * `Authorization: Bearer <secret>` with a lockout against guessing: 10 wrong secrets per client address, then
 * one a minute, and at most a log line a second. Answers undefined for a request that may pass; otherwise sets
 * `Retry-After` or `WWW-Authenticate` and says why.
 */
export function bearerGate(
  options: BearerGateOptions,
): (req: Request, res: Response) => BearerRefusal | undefined {
  const authorized = bearerCheck(options.secret);
  const lockout = new FailureLockout();
  const warn = limitedWarn(options.logger);
  return (req, res) => {
    const address = options.addressOf(req);
    const lockedMs = lockout.lockedForMs(address);
    if (lockedMs > 0) {
      res.setHeader('Retry-After', String(Math.ceil(lockedMs / 1000)));
      return { code: 'RATE_LIMITED', retryAfterMs: lockedMs };
    }
    if (authorized(req)) return undefined;
    lockout.failed(address);
    warn({ ip: address, path: req.path }, `${options.realm} request refused`);
    res.setHeader('WWW-Authenticate', `Bearer realm="${options.realm}"`);
    return { code: 'UNAUTHORIZED' };
  };
}
