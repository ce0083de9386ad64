import { expect } from 'vitest';
import type { Report } from './checker';

/** Gateway settings for chaos runs: sends are limited by the test's pace, not the per-connection budget. */
export const CHAOS_GATEWAY_ENV: Readonly<Record<string, string>> = Object.freeze({
  RATE_LIMIT_PER_SECOND: '1000',
  RATE_LIMIT_BURST: '1000',
});

/** `urls` rotated by `i`, so client i starts on gateway i mod n and moves on in the same order. */
export function rotate<T>(items: readonly T[], i: number): T[] {
  const k = i % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** Room names r0 … r(n-1), with a per-test tag so a shared Redis never mixes runs. */
export function roomNames(count: number, tag = ''): string[] {
  return Array.from({ length: count }, (_, i) => `${tag}r${i}`);
}

/**
 * Asserts the delivery guarantee on a checked history: nothing acknowledged lost by a member present
 * throughout, nothing seen twice after dedupe, nothing never sent, one content per seq, seq order per client,
 * nothing stored twice, no holes in what a member saw.
 */
export function expectGuarantee(report: Report): void {
  const { totals } = report;
  const found = {
    lost: totals.lost,
    duplicated: totals.duplicated,
    unexpected: totals.unexpected,
    disagreements: totals.disagreements,
    outOfOrder: totals.outOfOrder,
    storedTwice: totals.storedTwice,
    gaps: totals.gaps,
    stale: totals.stale,
  };
  expect(found, `delivery anomalies, e.g. ${JSON.stringify(report.examples)}`).toEqual({
    lost: 0,
    duplicated: 0,
    unexpected: 0,
    disagreements: 0,
    outOfOrder: 0,
    storedTwice: 0,
    gaps: 0,
    stale: 0,
  });
  expect(totals.acked, 'the run acknowledged some sends').toBeGreaterThan(0);
}
