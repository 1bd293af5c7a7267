/**
 * Every query of the Grafana dashboards runs on a real Prometheus: the server is backfilled with a
 * synthetic sample of every metric the dashboards read (the cost history of test/support for the
 * kube-state-metrics / cAdvisor series, and paved's own counters, gauges and histograms with their
 * real label names), then each panel target and each variable query, with the template variables
 * substituted, must parse, evaluate and return at least one series, so that a misspelled metric or
 * label name fails here.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { costHistoryOpenMetricsChunks, standardCostHistory, STANDARD_END, type CostHistory } from '../support/cost-history.js';
import { startPrometheus } from '../support/prometheus.js';
import { allTargets, dashboardFiles, EXTERNAL_METRICS, loadDashboard, metricNames, substitute, variableQuery, type JsonDashboard } from './dashboard-support.js';
import { pavedFamilies, SYNTHETIC_CONTROLLERS, SYNTHETIC_NAMESPACES, syntheticOpenMetrics } from './synthetic-metrics.js';

const HOUR = 3600;
const COST_TEAMS = ['cost-alpha', 'cost-beta', 'cost-gamma'];
/** Values of the dashboards' own variables: each present in the synthetic data. */
const VALUES: Record<string, string> = {
  team: 'cost-alpha',
  namespace: SYNTHETIC_NAMESPACES[0],
  controller: SYNTHETIC_CONTROLLERS[0],
};

// Two days of the standard cost history (at 5-minute resolution), ending at STANDARD_END.
const standard = standardCostHistory(300);
const history: CostHistory = { ...standard, startSeconds: STANDARD_END - 48 * HOUR, hours: 48, rollouts: [] };
const families = pavedFamilies(COST_TEAMS);

function openMetrics(): string {
  const cost = [...costHistoryOpenMetricsChunks(history)].join('').replace(/# EOF\n$/, '');
  const paved = syntheticOpenMetrics(families, { endSeconds: STANDARD_END - 15, durationSeconds: 3 * HOUR, stepSeconds: 30 });
  return `${cost}${paved}# EOF\n`;
}

interface PromResult {
  status: string;
  error?: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

let url: string;

async function query(expr: string): Promise<PromResult> {
  const res = await fetch(`${url}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: expr, time: String(STANDARD_END) }),
  });
  return (await res.json()) as PromResult;
}

/** `label_values(metric{sel}, label)` as an instant query of the label's values. */
function labelValuesQuery(q: string): { expr: string; label: string } {
  const m = /^label_values\(\s*(.+?)\s*,\s*(\w+)\s*\)$/.exec(q.trim());
  if (!m) throw new Error(`unsupported variable query ${q}`);
  return { expr: `count by (${m[2]}) (last_over_time(${m[1]}[1h]))`, label: m[2] as string };
}

beforeAll(async () => {
  const prom = await startPrometheus({ backfillOpenMetrics: openMetrics() });
  url = prom.url;
});

describe('the synthetic data', () => {
  it('holds every metric the dashboards read', () => {
    const present = new Set<string>([...EXTERNAL_METRICS]);
    for (const f of families) {
      if (f.kind === 'histogram') for (const s of ['_bucket', '_sum', '_count']) present.add(f.name + s);
      else present.add(f.name);
    }
    const used = new Set(dashboardFiles().flatMap((f) => allTargets(loadDashboard(f)).flatMap((t) => metricNames(t.target.expr ?? ''))));
    for (const m of used) expect(present.has(m), m).toBe(true);
  });

  it('makes a misspelled metric or label return nothing (the check below has teeth)', async () => {
    const ok = await query('sum by (controller) (rate(paved_reconcile_total[5m]))');
    expect(ok.status).toBe('success');
    expect(ok.data?.result.length).toBeGreaterThan(0);
    expect((await query('sum by (controller) (rate(paved_reconcile_totl[5m]))')).data?.result).toEqual([]);
    expect((await query('sum(rate(paved_reconcile_total{controler="webservice"}[5m]))')).data?.result).toEqual([]);
  });
});

describe.each(dashboardFiles())('%s', (file) => {
  const d: JsonDashboard = loadDashboard(file);

  it('has variable queries that return the values the panels are tested with', async () => {
    for (const v of d.templating?.list ?? []) {
      const q = variableQuery(v);
      if (q === undefined) continue;
      const { expr, label } = labelValuesQuery(q);
      const res = await query(expr);
      expect(res.status, `${v.name}: ${res.error}`).toBe('success');
      const values = (res.data?.result ?? []).map((r) => r.metric[label]);
      expect(values, v.name).toContain(VALUES[v.name]);
    }
  });

  it.each(allTargets(d).map(({ panel, target }) => [`${panel.title} [${target.refId}]`, target.expr ?? ''] as const))(
    'panel %s runs and returns series',
    async (_title, expr) => {
      const promql = substitute(expr, d, VALUES);
      const res = await query(promql);
      expect(res.status, `${res.error}\n${promql}`).toBe('success');
      expect(res.data?.result.length, promql).toBeGreaterThan(0);
    },
  );
});

describe('paved-cost.json figures', () => {
  it('prices the last hour of the standard history as the cost model does (the All value of $team)', async () => {
    const d = loadDashboard('paved-cost.json');
    const target = allTargets(d).find((t) => t.panel.title === 'Cost per hour by team');
    expect(target).toBeDefined();
    const all = (d.templating?.list?.find((v) => v.name === 'team') as { allValue?: string } | undefined)?.allValue;
    expect(all).toBeDefined();
    const res = await query(substitute(target?.target.expr ?? '', d, { ...VALUES, team: all ?? '' }));
    expect(res.status).toBe('success');
    const byTeam = Object.fromEntries((res.data?.result ?? []).map((r) => [r.metric['team'], Number(r.value[1])]));
    // Hour 47 (23:00-24:00 UTC), max(request, usage) per container, default prices:
    //  alpha: 3.5 cores + 3.5 GiB (api 2x1 + worker 0.5 + dev 1; all under their requests);
    //  beta:  3.5 cores + 3.5 GiB (web 0.5 + batch 2 + reports 1; 1 + 2 + 0.5 GiB);
    //  gamma: 0.5 core + 4 GiB + a 100 GiB claim at 0.04 / 730 per GiB-hour; kube-system: no team.
    expect(Object.keys(byTeam).sort()).toEqual(['cost-alpha', 'cost-beta', 'cost-gamma']);
    expect(byTeam['cost-alpha']).toBeCloseTo(3.5 * 0.031611 + 3.5 * 0.004237, 6);
    expect(byTeam['cost-beta']).toBeCloseTo(3.5 * 0.031611 + 3.5 * 0.004237, 6);
    expect(byTeam['cost-gamma']).toBeCloseTo(0.5 * 0.031611 + 4 * 0.004237 + (100 * 0.04) / 730, 6);
  });
});
