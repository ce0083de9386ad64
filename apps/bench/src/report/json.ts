import type { BenchResults } from '../bench';
import type { BenchSummary } from './summary';

/** The machine-readable results: every raw run, then the summaries, ratios and A/A comparison derived from them. */
export function renderJson(results: BenchResults, summary: BenchSummary): string {
  return `${JSON.stringify({ ...results, summary }, null, 2)}\n`;
}
