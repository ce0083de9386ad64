import type { BenchResults } from '../bench';
import { scenario as scenarioOf } from '../scenarios/catalog';
import { formatNumber } from './format';
import type { BenchSummary } from './summary';

const WIDTH = 760;
const LABEL_W = 150;
const BAR_W = 470;
const ROW_H = 22;
const TITLE_H = 30;
const GAP = 18;
const COLORS = { baseline: '#9aa0a6', chorus: '#1a73e8', external: '#188038' } as const;

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A bar chart drawn by hand: one panel per scenario with its headline figure (median bar, min–max whisker) for
 * every target that ran it. Grey bars are baselines, blue ones Chorus.
 */
export function renderSvg(results: BenchResults, summary: BenchSummary): string {
  const kindOf = (id: string) => results.targets.find((t) => t.id === id)?.kind ?? 'chorus';
  const parts: string[] = [];
  let y = 16;
  parts.push(
    `<text x="12" y="${y + 12}" font-size="16" font-weight="bold">Chorus bench, ${escapeXml(results.startedAt.slice(0, 19).replace('T', ' '))} UTC</text>`,
  );
  y += 30;
  for (const scenarioId of results.options.scenarios) {
    const { headline } = scenarioOf(scenarioId);
    const rows = summary.cells
      .filter((c) => c.scenario === scenarioId && c.figures[headline.key])
      .map((c) => ({ label: c.label, kind: kindOf(c.target), spread: c.figures[headline.key]! }));
    if (rows.length === 0) continue;
    const top = Math.max(...rows.map((r) => r.spread.max)) * 1.08 || 1;
    const scale = (v: number) => (Math.max(0, v) / top) * BAR_W;
    const better = headline.higherIsBetter ? 'higher is better' : 'lower is better';
    parts.push(
      `<text x="12" y="${y + 18}" font-size="13" font-weight="bold">${escapeXml(scenarioId)}: ${escapeXml(headline.label)} <tspan font-weight="normal" fill="#5f6368">(${better})</tspan></text>`,
    );
    y += TITLE_H;
    for (const row of rows) {
      const { median, min, max } = row.spread;
      const mid = y + ROW_H / 2;
      parts.push(
        `<text x="${LABEL_W - 8}" y="${mid + 4}" font-size="12" text-anchor="end">${escapeXml(row.label)}</text>`,
        `<rect x="${LABEL_W}" y="${y + 3}" width="${scale(median).toFixed(1)}" height="${ROW_H - 6}" fill="${COLORS[row.kind]}"/>`,
      );
      if (max > min) {
        const [x1, x2] = [LABEL_W + scale(min), LABEL_W + scale(max)];
        parts.push(
          `<path d="M${x1.toFixed(1)} ${mid}H${x2.toFixed(1)}M${x1.toFixed(1)} ${mid - 5}v10M${x2.toFixed(1)} ${mid - 5}v10" stroke="#202124" stroke-width="1.2" fill="none"/>`,
        );
      }
      parts.push(
        `<text x="${LABEL_W + BAR_W + 8}" y="${mid + 4}" font-size="12">${escapeXml(formatNumber(median))}</text>`,
      );
      y += ROW_H;
    }
    y += GAP;
  }
  parts.push(
    `<text x="12" y="${y + 4}" font-size="11" fill="#5f6368">Bars: median over repetitions; whiskers: min–max. Grey: baselines; blue: Chorus; green: --url.</text>`,
  );
  y += 16;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}" font-family="system-ui, sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
