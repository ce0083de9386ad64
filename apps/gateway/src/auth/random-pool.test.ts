import { describe, expect, it } from 'vitest';
import { newGuestId } from './guest-tokens';
import { RandomPool } from './random-pool';

describe('RandomPool', () => {
  it('hands out bytes of the length asked, different every time, across refills', () => {
    const pool = new RandomPool(64);
    const seen = new Set<string>();
    // 12 bytes from a 64-byte pool: five per fill, the rest of a fill skipped, so many refills.
    for (let i = 0; i < 500; i++) {
      const bytes = pool.bytes(12);
      expect(bytes).toHaveLength(12);
      seen.add(bytes.toString('hex'));
    }
    expect(seen.size).toBe(500);
  });

  it('gives copies: what it handed out does not change when it refills', () => {
    const pool = new RandomPool(16);
    const first = pool.bytes(16);
    const kept = Buffer.from(first);
    pool.bytes(16);
    expect(first.equals(kept)).toBe(true);
  });

  it('refuses more than the pool holds', () => {
    expect(() => new RandomPool(16).bytes(17)).toThrow(RangeError);
  });

  it('makes guest ids that do not repeat', () => {
    const ids = new Set(Array.from({ length: 2_000 }, () => newGuestId()));
    expect(ids.size).toBe(2_000);
    for (const id of ids) expect(id).toMatch(/^guest-[\w-]{16}$/);
  });
});
