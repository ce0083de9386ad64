import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket';

describe('TokenBucket', () => {
  it('allows a burst, then refuses until time refills it', () => {
    let now = 0;
    const bucket = new TokenBucket({ perSecond: 2, burst: 3, now: () => now });
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    now += 500;
    expect([bucket.take(), bucket.take()]).toEqual([true, false]);
    expect(bucket.retryAfterMs()).toBe(500);
    now += 200;
    expect(bucket.retryAfterMs()).toBe(300);
    now += 300;
    expect(bucket.retryAfterMs()).toBe(0);
    now += 10_000;
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
  });
});
