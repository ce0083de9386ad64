import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../apps/gateway/src/metrics/metrics';

// deploy/grafana/chorus-dashboard.json is imported into Grafana by hand or by provisioning; these checks keep it
// importable and in step with the metrics the gateway exports.

interface Target {
  expr: string;
  datasource: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}

const dashboard = JSON.parse(
  readFileSync(new URL('../../deploy/grafana/chorus-dashboard.json', import.meta.url), 'utf8'),
) as {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown }[] };
};
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's reference to the data source variable
const DATASOURCE_UID = '${datasource}';
const targets = dashboard.panels.flatMap((p) => p.targets ?? []);

describe('the Grafana dashboard', () => {
  it('is a current dashboard with a Prometheus data source variable and a node filter', () => {
    expect(dashboard.uid).toBe('chorus-gateways');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const variables = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, v]));
    expect(variables.datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(variables.node).toMatchObject({ type: 'query' });
  });

  it('queries through the data source variable, filtered by node', () => {
    expect(targets.length).toBeGreaterThan(20);
    for (const target of targets) {
      expect(target.datasource).toEqual({ type: 'prometheus', uid: DATASOURCE_UID });
      expect(target.expr).toContain('node=~"$node"');
    }
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect(panel.datasource?.uid, panel.title).toBe(DATASOURCE_UID);
    }
  });

  it('charts every chorus metric the gateway exports', async () => {
    const exported = (await createMetrics('n', { processMetrics: false }).registry.getMetricsAsJSON()).map(
      (m) => m.name,
    );
    expect(exported.length).toBeGreaterThanOrEqual(13);
    const queried = targets.map((t) => t.expr).join('\n');
    for (const name of exported) expect(queried, name).toContain(name);
    expect(queried).toContain('nodejs_eventloop_lag_p99_seconds');
  });

  it('has unique panel ids, balanced expressions and a layout inside the 24-column grid', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
    }
    for (const { expr } of targets) {
      for (const [open, close] of ['()', '{}', '[]']) {
        expect(expr.split(open!).length, expr).toBe(expr.split(close!).length);
      }
    }
  });
});
