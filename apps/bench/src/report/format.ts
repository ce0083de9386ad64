import type { Spread } from '../measure/stats';

/** A number for a table: thousands separated, fewer decimals as it grows. */
export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** `median [min–max]`, or just the median for one repetition or no spread; `–` when missing. */
export function formatSpread(spread: Spread | undefined): string {
  if (!spread) return '–';
  const median = formatNumber(spread.median);
  if (spread.n < 2 || spread.min === spread.max) return median;
  return `${median} [${formatNumber(spread.min)}–${formatNumber(spread.max)}]`;
}

/** Escapes a table cell's pipes. */
export function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}
