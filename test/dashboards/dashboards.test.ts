/**
 * The Grafana dashboards of dashboards/: valid JSON of the expected shape, importable on any
 * Grafana (datasource chosen by the `${datasource}` variable, never a hard-coded uid), every panel
 * target a PromQL expression over metrics paved (or kube-state-metrics / cAdvisor) exports, and
 * the committed files equal to what dashboards/build.ts generates.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDashboards } from '../../dashboards/build.js';
import {
  allPanels,
  allTargets,
  dashboardFiles,
  DASHBOARD_DIR,
  EXTERNAL_METRICS,
  loadDashboard,
  metricNames,
  pavedExportedMetrics,
  pavedSeriesNames,
  substitute,
  variableQuery,
} from './dashboard-support.js';

const files = dashboardFiles();

describe('dashboards/', () => {
  it('holds the four paved dashboards', () => {
    expect(files).toEqual(['paved-cost.json', 'paved-delivery.json', 'paved-platform.json', 'paved-rightsizing.json']);
  });

  it('are the output of dashboards/build.ts (regenerate with `node --import tsx dashboards/build.ts`)', () => {
    for (const [name, d] of Object.entries(buildDashboards())) {
      expect(readFileSync(join(DASHBOARD_DIR, `${name}.json`), 'utf8'), name).toBe(`${JSON.stringify(d, null, 2)}\n`);
    }
  });

  it('finds the metrics paved exports in src/', () => {
    const m = pavedExportedMetrics();
    expect(m.get('paved_reconcile_total')).toBe('counter');
    expect(m.get('paved_reconcile_duration_seconds')).toBe('histogram');
    expect(m.get('paved_cost_budget_status')).toBe('gauge');
    expect(m.get('paved_api_stream_messages_sent')).toBe('gauge');
  });

  it('extracts metric names from PromQL', () => {
    expect(
      metricNames('sum by (le, controller) (rate(paved_x_bucket{controller=~"$c", a="b c"}[$__rate_interval])) / on (team) group_left (x) foo_bar'),
    ).toEqual(['foo_bar', 'paved_x_bucket']);
    expect(metricNames('label_values(kube_namespace_labels{label_paved_dev_team!=""}, label_paved_dev_team)')).toEqual(['kube_namespace_labels']);
    expect(metricNames('label_replace(m, "team", "$1", "l", "(.+)") * 0.5 or vector(0)')).toEqual(['m']);
  });
});

describe.each(files)('%s', (file) => {
  const d = loadDashboard(file);
  const raw = readFileSync(join(DASHBOARD_DIR, file), 'utf8');

  it('has a stable uid equal to its file name, a title, schemaVersion 39+ and the tag paved', () => {
    expect(['paved-cost', 'paved-delivery', 'paved-platform', 'paved-rightsizing']).toContain(d.uid);
    expect(d.uid).toBe(file.replace(/\.json$/, ''));
    expect(d.title).toBeTruthy();
    expect(d.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(d.tags).toContain('paved');
  });

  it('asks the import dialog for the Prometheus data source (__inputs) and starts the variable at it', () => {
    const inputs = (d as { __inputs?: Array<{ name: string; type: string; pluginId: string }> }).__inputs;
    expect(inputs).toEqual([expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' })]);
    const ds = d.templating?.list?.find((v) => v.name === 'datasource');
    expect(ds?.current?.value).toBe('${DS_PROMETHEUS}');
  });

  it('filters by team, namespace and service (all but Platform), and is tagged for its capability', () => {
    const names = (d.templating?.list ?? []).map((v) => v.name);
    if (d.uid !== 'paved-platform') expect(names).toEqual(expect.arrayContaining(['team', 'namespace', 'service']));
    expect(d.tags?.length).toBeGreaterThan(1);
  });

  it('has a Prometheus datasource template variable', () => {
    const ds = d.templating?.list?.find((v) => v.name === 'datasource');
    expect(ds?.type).toBe('datasource');
    expect(ds?.query).toBe('prometheus');
  });

  it('has unique panel ids', () => {
    const ids = allPanels(d).map((p) => p.id);
    expect(ids.every((id) => typeof id === 'number')).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('hard-codes no datasource uid', () => {
    const uids = [...raw.matchAll(/"uid":\s*"([^"]*)"/g)].map((m) => m[1]);
    // The dashboard's own uid, the datasource variable, and Grafana's built-in annotation source.
    expect(uids.filter((u) => u !== d.uid && u !== '${datasource}' && u !== '-- Grafana --')).toEqual([]);
    for (const p of allPanels(d)) if (p.type !== 'row') expect(p.datasource?.uid, p.title).toBe('${datasource}');
  });

  it('gives every panel target a PromQL expression', () => {
    const targets = allTargets(d);
    expect(targets.length).toBeGreaterThan(5);
    for (const { panel, target } of targets) {
      expect(target.expr?.trim(), `${panel.title} ${target.refId}`).toBeTruthy();
      expect(target.datasource?.uid).toBe('${datasource}');
    }
    for (const p of allPanels(d)) if (p.type !== 'row') expect(p.targets?.length, p.title).toBeGreaterThan(0);
  });

  it('reads only metrics paved exports or the listed kube-state-metrics / cAdvisor metrics', () => {
    const known = pavedSeriesNames();
    const exprs = [
      ...allTargets(d).map((t) => t.target.expr ?? ''),
      ...(d.templating?.list ?? []).map(variableQuery).filter((q): q is string => q !== undefined),
    ];
    const used = new Set(exprs.flatMap(metricNames));
    expect(used.size).toBeGreaterThan(0);
    for (const m of used) expect(known.has(m) || EXTERNAL_METRICS.has(m), `unknown metric ${m}`).toBe(true);
  });

  it('uses only template variables it defines (or Grafana built-ins)', () => {
    const values = Object.fromEntries((d.templating?.list ?? []).map((v) => [v.name, 'x']));
    for (const { target } of allTargets(d)) expect(() => substitute(target.expr ?? '', d, values)).not.toThrow();
  });
});
