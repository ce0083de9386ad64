import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchResults } from '../bench';
import { renderJson } from './json';
import { renderMarkdown } from './markdown';
import { summarize } from './summary';
import { renderSvg } from './svg';

/** The files one bench writes. */
export interface WrittenReport {
  dir: string;
  json: string;
  markdown: string;
  svg: string;
}

/**
 * Writes `results.json` (raw runs, summaries, ratios, A/A), `results.md` and `chart.svg` into `dir`; with
 * `latest`, also copies the markdown there (bench/results/latest.md) for a quick look.
 */
export function writeReport(results: BenchResults, dir: string, latest?: string): WrittenReport {
  mkdirSync(dir, { recursive: true });
  const summary = summarize(results);
  const files = {
    dir,
    json: join(dir, 'results.json'),
    markdown: join(dir, 'results.md'),
    svg: join(dir, 'chart.svg'),
  };
  writeFileSync(files.json, renderJson(results, summary));
  writeFileSync(files.markdown, renderMarkdown(results, summary));
  writeFileSync(files.svg, renderSvg(results, summary));
  if (latest) copyFileSync(files.markdown, latest);
  return files;
}
