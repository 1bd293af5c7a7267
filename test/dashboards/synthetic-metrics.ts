/**
 * A small synthetic sample of every paved_* metric the dashboards read, with paved's label names
 * and types (counters growing, gauges, histograms as _bucket/_sum/_count), as OpenMetrics text
 * families (without the final `# EOF`) for promtool's backfill.
 */

export interface SyntheticWindow {
  /** Last sample at or before this instant (unix seconds). */
  readonly endSeconds: number;
  readonly durationSeconds: number;
  readonly stepSeconds: number;
}

type Labels = Record<string, string>;
type Kind = 'counter' | 'gauge' | 'histogram';

export interface SyntheticFamily {
  readonly name: string;
  readonly kind: Kind;
  readonly series: readonly Labels[];
  /** Gauge value, or counter increase per second (per label set, by index). */
  readonly value?: (i: number) => number;
  /** Histogram: bucket bounds and observations per second, each of the given value. */
  readonly buckets?: readonly number[];
  readonly observe?: (i: number) => number;
}

const cross = (...dims: Array<Array<Labels>>): Labels[] =>
  dims.reduce<Labels[]>((acc, dim) => acc.flatMap((a) => dim.map((d) => ({ ...a, ...d }))), [{}]);
const dim = (name: string, values: readonly string[]): Labels[] => values.map((v) => ({ [name]: v }));

export const SYNTHETIC_NAMESPACES = ['cost-alpha-prod', 'shop'] as const;
export const SYNTHETIC_CONTROLLERS = ['webservice', 'tenancy', 'delivery'] as const;

export function pavedFamilies(costTeams: readonly string[]): SyntheticFamily[] {
  const controllers = dim('controller', SYNTHETIC_CONTROLLERS);
  const queues = dim('queue', SYNTHETIC_CONTROLLERS);
  const services = cross(dim('namespace', SYNTHETIC_NAMESPACES), dim('service', ['api', 'web']));
  return [
    { name: 'paved_reconcile_total', kind: 'counter', series: cross(controllers, dim('result', ['success', 'requeue', 'error', 'terminal', 'notfound'])) },
    { name: 'paved_reconcile_errors_total', kind: 'counter', series: controllers },
    { name: 'paved_reconcile_duration_seconds', kind: 'histogram', series: controllers, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], observe: (i) => 0.02 * (i + 1) },
    { name: 'paved_workqueue_depth', kind: 'gauge', series: queues, value: (i) => i + 1 },
    { name: 'paved_workqueue_delayed', kind: 'gauge', series: queues, value: (i) => i },
    { name: 'paved_workqueue_adds_total', kind: 'counter', series: queues },
    { name: 'paved_workqueue_retries_total', kind: 'counter', series: queues },
    { name: 'paved_workqueue_queue_duration_seconds', kind: 'histogram', series: queues, buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60], observe: (i) => 0.003 * (i + 1) },
    {
      name: 'paved_kube_api_requests_total',
      kind: 'counter',
      series: [
        { verb: 'get', resource: 'webservices', code: '200' },
        { verb: 'list', resource: 'namespaces', code: '200' },
        { verb: 'apply', resource: 'deployments', code: '200' },
        { verb: 'apply', resource: 'deployments', code: '409' },
        { verb: 'watch', resource: 'webservices', code: '200' },
      ],
    },
    { name: 'paved_informer_restarts_total', kind: 'counter', series: dim('resource', ['webservices', 'namespaces']) },
    { name: 'paved_informer_synced', kind: 'gauge', series: dim('resource', ['webservices', 'namespaces']), value: () => 1 },
    { name: 'paved_leader', kind: 'gauge', series: [{ lease: 'paved-system/paved' }], value: () => 1 },
    { name: 'paved_webservices', kind: 'gauge', series: dim('tier', ['managed', 'configured', 'advanced']), value: (i) => [7, 3, 1][i] ?? 0 },
    {
      name: 'paved_webservice_policy_violations',
      kind: 'gauge',
      series: cross(dim('policy', ['resources-required', 'no-latest-tag']), dim('mode', ['enforce', 'audit'])),
      value: (i) => i % 3,
    },
    {
      name: 'paved_webservice_policy_violations_observed_total',
      kind: 'counter',
      series: cross(dim('policy', ['resources-required', 'no-latest-tag']), dim('mode', ['enforce', 'audit'])),
    },
    { name: 'paved_api_requests_total', kind: 'counter', series: [{ method: 'GET', route: '/cost/teams', status: '200' }, { method: 'POST', route: '/webservices', status: '403' }] },
    {
      name: 'paved_api_request_duration_seconds',
      kind: 'histogram',
      series: [{ method: 'GET', route: '/cost/teams' }, { method: 'POST', route: '/webservices' }],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      observe: (i) => 0.04 * (i + 1),
    },
    { name: 'paved_api_stream_clients', kind: 'gauge', series: [{}], value: () => 2 },
    { name: 'paved_orphan_namespaces', kind: 'gauge', series: [{}], value: () => 0 },
    { name: 'paved_rollouts_started_total', kind: 'counter', series: services },
    { name: 'paved_rollouts_succeeded_total', kind: 'counter', series: services },
    { name: 'paved_rollouts_rolled_back_total', kind: 'counter', series: cross(services, dim('reason', ['AnalysisFailed'])) },
    { name: 'paved_rollouts_paused_total', kind: 'counter', series: cross(services, dim('reason', ['ManualPause'])) },
    { name: 'paved_rollout_step_duration_seconds', kind: 'histogram', series: dim('step_type', ['setWeight', 'pause', 'analysis']), buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600], observe: (i) => 3 + 50 * i },
    {
      name: 'paved_analysis_metric_results_total',
      kind: 'counter',
      series: cross(dim('metric', ['success-rate', 'latency-p99']), dim('template', ['http-golden']), dim('phase', ['Successful', 'Failed', 'Inconclusive'])),
    },
    { name: 'paved_rollout_lead_time_seconds', kind: 'histogram', series: [{}], buckets: [10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 21600], observe: () => 400 },
    { name: 'paved_rollout_failure_to_rollback_seconds', kind: 'histogram', series: [{}], buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600], observe: () => 25 },
    { name: 'paved_analysis_queries_total', kind: 'counter', series: dim('outcome', ['ok', 'error']) },
    { name: 'paved_analysis_query_duration_seconds', kind: 'histogram', series: [{}], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], observe: () => 0.03 },
    { name: 'paved_cost_budget_crossings_total', kind: 'counter', series: cross(dim('team', costTeams), dim('status', ['warning'])) },
    {
      name: 'paved_cost_budget_status',
      kind: 'gauge',
      series: cross(dim('team', costTeams), dim('status', ['ok', 'warning', 'over'])),
      // team 0 ok, team 1 warning, ...
      value: (i) => (Math.floor(i / 3) % 3 === i % 3 ? 1 : 0),
    },
    { name: 'paved_cost_budget_projected_ratio', kind: 'gauge', series: dim('team', costTeams), value: (i) => 0.5 + 0.3 * i },
    // The rightsizing engine's metrics (issue 13, not on main yet), with the label names it will export.
    { name: 'paved_rightsizing_recommendations', kind: 'gauge', series: dim('state', ['Pending', 'Applied', 'RolledBack']), value: (i) => 3 - i },
    {
      name: 'paved_rightsizing_recommended_request',
      kind: 'gauge',
      series: cross(cross(dim('namespace', SYNTHETIC_NAMESPACES), dim('webservice', ['api', 'web'])), cross(dim('container', ['app']), dim('resource', ['cpu', 'memory']))),
      value: (i) => (i % 2 === 0 ? 0.25 : 256 * 1024 * 1024),
    },
    {
      name: 'paved_rightsizing_projected_savings_monthly',
      kind: 'gauge',
      series: [
        { team: costTeams[0] ?? 'cost-alpha', namespace: SYNTHETIC_NAMESPACES[0], webservice: 'api' },
        { team: costTeams[0] ?? 'cost-alpha', namespace: SYNTHETIC_NAMESPACES[0], webservice: 'web' },
      ],
      value: (i) => 12.5 * (i + 1),
    },
    { name: 'paved_rightsizing_applied_total', kind: 'counter', series: dim('namespace', SYNTHETIC_NAMESPACES) },
    { name: 'paved_rightsizing_rolled_back_total', kind: 'counter', series: cross(dim('namespace', SYNTHETIC_NAMESPACES), dim('reason', ['Regressed'])) },
  ];
}

function labelText(l: Labels): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** OpenMetrics text of the families (no `# EOF`). */
export function syntheticOpenMetrics(families: readonly SyntheticFamily[], w: SyntheticWindow): string {
  const times: number[] = [];
  for (let t = w.endSeconds - w.durationSeconds; t <= w.endSeconds; t += w.stepSeconds) times.push(t);
  const out: string[] = [];
  for (const f of families) {
    const family = f.kind === 'counter' ? f.name.replace(/_total$/, '') : f.name;
    out.push(`# TYPE ${family} ${f.kind}\n`);
    f.series.forEach((labels, i) => {
      if (f.kind === 'gauge') {
        for (const t of times) out.push(`${f.name}${labelText(labels)} ${f.value?.(i) ?? 1} ${t}\n`);
      } else if (f.kind === 'counter') {
        // Counter growing at (i + 1) / 60 per second from 0.
        for (const [k, t] of times.entries()) out.push(`${f.name}${labelText(labels)} ${(((i + 1) * k * w.stepSeconds) / 60).toFixed(3)} ${t}\n`);
      } else {
        const value = f.observe?.(i) ?? 1;
        const perStep = (k: number): number => k; // one observation per sample interval
        for (const le of [...(f.buckets ?? []), Infinity]) {
          const l = labelText({ ...labels, le: le === Infinity ? '+Inf' : String(le) });
          for (const [k, t] of times.entries()) out.push(`${f.name}_bucket${l} ${value <= le ? perStep(k) : 0} ${t}\n`);
        }
        for (const [k, t] of times.entries()) out.push(`${f.name}_sum${labelText(labels)} ${(perStep(k) * value).toFixed(6)} ${t}\n`);
        for (const [k, t] of times.entries()) out.push(`${f.name}_count${labelText(labels)} ${perStep(k)} ${t}\n`);
      }
    });
  }
  return out.join('');
}
