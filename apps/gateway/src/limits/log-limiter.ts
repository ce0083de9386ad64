import type { Logger } from '../logger';
import { TokenBucket } from './token-bucket';

/** A warn logger for what one client causes: at most `burst` lines at once, then `perSecond`. */
export type LimitedWarn = (fields: Record<string, unknown>, message: string) => void;

/**
 * Per-client warnings, rate-limited so a client cannot fill the log: lines over the budget are counted, and
 * the next line that goes out says how many were left out (`suppressed`). The bucket is made at the first
 * warning: most clients never cause one, and an idle connection should not carry it. `log` may be a function
 * that gives the logger, for a connection that makes its logger at first use.
 */
export function limitedWarn(log: Logger | (() => Logger), { perSecond = 1, burst = 10 } = {}): LimitedWarn {
  let bucket: TokenBucket | undefined;
  let suppressed = 0;
  return (fields, message) => {
    bucket ??= new TokenBucket({ perSecond, burst });
    if (!bucket.take()) {
      suppressed += 1;
      return;
    }
    (typeof log === 'function' ? log() : log).warn(
      suppressed > 0 ? { ...fields, suppressed } : fields,
      message,
    );
    suppressed = 0;
  };
}
