/**
 * Builds the Grafana dashboards of paved (dashboards/*.json) from TypeScript, so that the cost
 * panels reuse the PromQL of src/cost/queries.ts verbatim. The committed artifacts are the .json
 * files; regenerate them with `node --import tsx dashboards/build.ts` (test/dashboards checks that
 * the committed files equal the builder's output).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  cpuRequestPerContainer,
  cpuUsagePerContainer,
  hourlyValue,
  memoryRequestPerContainer,
  memoryUsagePerContainer,
  namespaceAttribution,
  storagePerClaim,
} from '../src/cost/queries.js';

export interface Target {
  readonly refId: string;
  readonly expr: string;
  readonly legendFormat?: string;
  readonly instant?: boolean;
  readonly range?: boolean;
  readonly format?: string;
  readonly datasource: { readonly type: 'prometheus'; readonly uid: '${datasource}' };
}

export interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly description?: string;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly datasource?: { readonly type: 'prometheus'; readonly uid: '${datasource}' };
  readonly targets?: readonly Target[];
  readonly fieldConfig?: unknown;
  readonly options?: unknown;
  readonly collapsed?: boolean;
  readonly panels?: readonly Panel[];
}

export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly schemaVersion: number;
  readonly version: number;
  readonly editable: boolean;
  readonly graphTooltip: number;
  readonly time: { readonly from: string; readonly to: string };
  readonly refresh: string;
  readonly timezone: string;
  readonly templating: { readonly list: readonly unknown[] };
  readonly annotations: { readonly list: readonly unknown[] };
  readonly links: readonly unknown[];
  readonly panels: readonly Panel[];
}

const DS = { type: 'prometheus', uid: '${datasource}' } as const;

type Kind = 'timeseries' | 'stat' | 'gauge' | 'table' | 'bargauge';
interface PanelSpec {
  readonly title: string;
  readonly kind?: Kind;
  readonly description?: string;
  readonly unit?: string;
  readonly w?: number;
  readonly h?: number;
  readonly targets: readonly { expr: string; legend?: string; instant?: boolean }[];
  readonly thresholds?: readonly { value: number | null; color: string }[];
  readonly min?: number;
  readonly max?: number;
  readonly mappings?: unknown[];
}

/** Lays panels out left to right, rows of 24 grid units, ids from 1. */
class Layout {
  private id = 0;
  private x = 0;
  private y = 0;
  private rowHeight = 0;
  readonly panels: Panel[] = [];

  row(title: string): void {
    this.newLine();
    this.panels.push({ id: ++this.id, type: 'row', title, collapsed: false, gridPos: { x: 0, y: this.y, w: 24, h: 1 }, panels: [] });
    this.y += 1;
  }

  add(p: PanelSpec): void {
    const kind = p.kind ?? 'timeseries';
    const w = p.w ?? 12;
    const h = p.h ?? (kind === 'timeseries' || kind === 'table' ? 8 : 5);
    if (this.x + w > 24) this.newLine();
    const instantDefault = kind !== 'timeseries';
    const targets: Target[] = p.targets.map((t, i) => {
      const instant = t.instant ?? instantDefault;
      return {
        refId: String.fromCharCode(65 + i),
        expr: t.expr,
        ...(t.legend !== undefined ? { legendFormat: t.legend } : {}),
        instant,
        range: !instant,
        ...(kind === 'table' ? { format: 'table' } : {}),
        datasource: DS,
      };
    });
    this.panels.push({
      id: ++this.id,
      type: kind,
      title: p.title,
      ...(p.description ? { description: p.description } : {}),
      gridPos: { x: this.x, y: this.y, w, h },
      datasource: DS,
      targets,
      fieldConfig: {
        defaults: {
          ...(p.unit ? { unit: p.unit } : {}),
          ...(p.min !== undefined ? { min: p.min } : {}),
          ...(p.max !== undefined ? { max: p.max } : {}),
          ...(p.mappings ? { mappings: p.mappings } : {}),
          thresholds: { mode: 'absolute', steps: p.thresholds ?? [{ value: null, color: 'green' }] },
        },
        overrides: [],
      },
      options:
        kind === 'timeseries'
          ? { legend: { displayMode: 'table', placement: 'bottom', calcs: ['lastNotNull', 'max'] }, tooltip: { mode: 'multi', sort: 'desc' } }
          : kind === 'table'
            ? { showHeader: true }
            : { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'none', textMode: 'auto' },
    });
    this.x += w;
    this.rowHeight = Math.max(this.rowHeight, h);
  }

  private newLine(): void {
    if (this.x > 0) this.y += this.rowHeight;
    this.x = 0;
    this.rowHeight = 0;
  }
}

const datasourceVar = {
  name: 'datasource',
  label: 'Prometheus',
  type: 'datasource',
  query: 'prometheus',
  current: {},
  hide: 0,
  refresh: 1,
  regex: '',
  options: [],
};

function queryVar(name: string, label: string, query: string, opts: { multi?: boolean; includeAll?: boolean } = {}) {
  return {
    name,
    label,
    type: 'query',
    datasource: DS,
    definition: query,
    query: { query, refId: `${name}-query`, qryType: 1 },
    refresh: 2,
    sort: 1,
    multi: opts.multi ?? true,
    includeAll: opts.includeAll ?? true,
    allValue: '.+',
    current: {},
    hide: 0,
    regex: '',
    options: [],
  };
}

function constantVar(name: string, label: string, value: string, description: string) {
  return {
    name,
    label,
    description,
    type: 'textbox',
    query: value,
    current: { text: value, value },
    hide: 0,
    options: [{ selected: true, text: value, value }],
  };
}

function dashboard(uid: string, title: string, description: string, vars: unknown[], panels: Panel[], from = 'now-6h'): Dashboard {
  return {
    uid,
    title,
    description,
    tags: ['paved'],
    schemaVersion: 39,
    version: 1,
    editable: true,
    graphTooltip: 1,
    time: { from, to: 'now' },
    refresh: '1m',
    timezone: 'utc',
    templating: { list: [datasourceVar, ...vars] },
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    links: [{ title: 'paved dashboards', type: 'dashboards', tags: ['paved'], asDropdown: true, includeVars: false, keepTime: true }],
    panels,
  };
}

// ---------------------------------------------------------------------------------------------
// paved-platform

/** The "Controllers" row of paved-platform. */
function platformControllersRow(l: Layout, c: string): void {
  l.row('Controllers');
  l.add({ title: 'Reconciles by result', unit: 'ops', targets: [{ expr: `sum by (controller, result) (rate(paved_reconcile_total{${c}}[$__rate_interval]))`, legend: '{{controller}} {{result}}' }] });
  l.add({ title: 'Reconcile errors (error + terminal)', unit: 'ops', targets: [{ expr: `sum by (controller) (rate(paved_reconcile_errors_total{${c}}[$__rate_interval]))`, legend: '{{controller}}' }] });
  l.add({
    title: 'Reconcile duration p99',
    unit: 's',
    targets: [{ expr: `histogram_quantile(0.99, sum by (le, controller) (rate(paved_reconcile_duration_seconds_bucket{${c}}[$__rate_interval])))`, legend: '{{controller}}' }],
  });
  l.add({
    title: 'Reconcile duration (mean)',
    unit: 's',
    targets: [
      {
        expr: `sum by (controller) (rate(paved_reconcile_duration_seconds_sum{${c}}[$__rate_interval])) / sum by (controller) (rate(paved_reconcile_duration_seconds_count{${c}}[$__rate_interval]))`,
        legend: '{{controller}}',
      },
    ],
  });
}

/** The "Work queues" row of paved-platform. */
function platformWorkQueuesRow(l: Layout): void {
  l.row('Work queues');
  l.add({
    title: 'Queue depth and delayed keys',
    w: 8,
    targets: [
      { expr: 'sum by (queue) (paved_workqueue_depth)', legend: '{{queue}} ready' },
      { expr: 'sum by (queue) (paved_workqueue_delayed)', legend: '{{queue}} delayed' },
    ],
  });
  l.add({
    title: 'Queue latency p99 (enqueue to processing)',
    w: 8,
    unit: 's',
    targets: [{ expr: 'histogram_quantile(0.99, sum by (le, queue) (rate(paved_workqueue_queue_duration_seconds_bucket[$__rate_interval])))', legend: '{{queue}}' }],
  });
  l.add({
    title: 'Queue adds and retries',
    w: 8,
    unit: 'ops',
    targets: [
      { expr: 'sum by (queue) (rate(paved_workqueue_adds_total[$__rate_interval]))', legend: '{{queue}} adds' },
      { expr: 'sum by (queue) (rate(paved_workqueue_retries_total[$__rate_interval]))', legend: '{{queue}} retries' },
    ],
  });
}

/** The "Kubernetes API, informers and leader election" row of paved-platform. */
function platformKubernetesApiRow(l: Layout): void {
  l.row('Kubernetes API, informers and leader election');
  l.add({ title: 'Kubernetes API requests by verb', w: 8, unit: 'reqps', targets: [{ expr: 'sum by (verb) (rate(paved_kube_api_requests_total[$__rate_interval]))', legend: '{{verb}}' }] });
  l.add({
    title: 'Kubernetes API requests by resource and code',
    w: 8,
    unit: 'reqps',
    targets: [{ expr: 'sum by (resource, code) (rate(paved_kube_api_requests_total[$__rate_interval]))', legend: '{{resource}} {{code}}' }],
  });
  l.add({
    title: 'Informer restarts',
    w: 8,
    targets: [{ expr: 'sum by (resource) (increase(paved_informer_restarts_total[$__rate_interval]))', legend: '{{resource}}' }],
  });
  l.add({
    title: 'Leader (1 = this replica leads)',
    kind: 'stat',
    w: 8,
    targets: [{ expr: 'max by (lease, instance) (paved_leader)', legend: '{{lease}} {{instance}}' }],
    mappings: [{ type: 'value', options: { '0': { text: 'follower', color: 'blue' }, '1': { text: 'leader', color: 'green' } } }],
  });
  l.add({
    title: 'Leaders per lease (should be 1)',
    kind: 'stat',
    w: 8,
    targets: [{ expr: 'sum by (lease) (paved_leader)', legend: '{{lease}}' }],
    thresholds: [
      { value: null, color: 'red' },
      { value: 1, color: 'green' },
      { value: 2, color: 'red' },
    ],
  });
  l.add({
    title: 'Informers not synced',
    kind: 'stat',
    w: 8,
    targets: [{ expr: 'count(paved_informer_synced == 0) or vector(0)' }],
    thresholds: [
      { value: null, color: 'green' },
      { value: 1, color: 'red' },
    ],
  });
}

/** The "WebServices (golden-path adoption)" row of paved-platform. */
function platformWebServicesRow(l: Layout): void {
  l.row('WebServices (golden-path adoption)');
  l.add({ title: 'WebServices per tier', kind: 'bargauge', w: 8, targets: [{ expr: 'sum by (tier) (paved_webservices)', legend: '{{tier}}' }] });
  l.add({
    title: 'Share on the managed tier',
    kind: 'gauge',
    w: 4,
    unit: 'percentunit',
    min: 0,
    max: 1,
    targets: [{ expr: 'sum(paved_webservices{tier="managed"}) / clamp_min(sum(paved_webservices), 1)' }],
  });
  l.add({ title: 'WebServices per tier over time', w: 12, targets: [{ expr: 'sum by (tier) (paved_webservices)', legend: '{{tier}}' }] });
}

/** The "Policy violations" row of paved-platform. */
function platformPolicyViolationsRow(l: Layout): void {
  l.row('Policy violations');
  l.add({
    title: 'Enforced violations (current)',
    kind: 'stat',
    w: 6,
    targets: [{ expr: 'sum(paved_webservice_policy_violations{mode="enforce"})' }],
    thresholds: [
      { value: null, color: 'green' },
      { value: 1, color: 'red' },
    ],
  });
  l.add({
    title: 'Audit violations (current)',
    kind: 'stat',
    w: 6,
    targets: [{ expr: 'sum(paved_webservice_policy_violations{mode="audit"})' }],
    thresholds: [
      { value: null, color: 'green' },
      { value: 1, color: 'orange' },
    ],
  });
  l.add({ title: 'Violations by policy and mode', w: 12, targets: [{ expr: 'sum by (policy, mode) (paved_webservice_policy_violations)', legend: '{{policy}} ({{mode}})' }] });
  l.add({
    title: 'Violations observed at admission / reconcile',
    w: 24,
    unit: 'ops',
    targets: [{ expr: 'sum by (policy, mode) (rate(paved_webservice_policy_violations_observed_total[$__rate_interval]))', legend: '{{policy}} ({{mode}})' }],
  });
}

/** The "paved API server and tenancy" row of paved-platform. */
function platformApiServerRow(l: Layout): void {
  l.row('paved API server and tenancy');
  l.add({ title: 'API requests by status', w: 8, unit: 'reqps', targets: [{ expr: 'sum by (status) (rate(paved_api_requests_total[$__rate_interval]))', legend: '{{status}}' }] });
  l.add({
    title: 'API request duration p99 by route',
    w: 8,
    unit: 's',
    targets: [{ expr: 'histogram_quantile(0.99, sum by (le, route) (rate(paved_api_request_duration_seconds_bucket[$__rate_interval])))', legend: '{{route}}' }],
  });
  l.add({
    title: 'Stream clients and orphan namespaces',
    w: 8,
    targets: [
      { expr: 'sum(paved_api_stream_clients)', legend: 'stream clients' },
      { expr: 'sum(paved_orphan_namespaces)', legend: 'orphan namespaces' },
    ],
  });
}

function platform(): Dashboard {
  const c = 'controller=~"$controller"';
  const l = new Layout();
  platformControllersRow(l, c);
  platformWorkQueuesRow(l);
  platformKubernetesApiRow(l);
  platformWebServicesRow(l);
  platformPolicyViolationsRow(l);
  platformApiServerRow(l);
  return dashboard(
    'paved-platform',
    'paved / Platform',
    'Health of the paved controllers (reconciles, queues, Kubernetes API, leader election), golden-path adoption and policy violations.',
    [queryVar('controller', 'Controller', 'label_values(paved_reconcile_total, controller)')],
    l.panels,
  );
}

// ---------------------------------------------------------------------------------------------
// paved-delivery

/** The "DORA inputs (over the dashboard time range)" row of paved-delivery. */
function deliveryDoraRow(l: Layout, ns: string): void {
  l.row('DORA inputs (over the dashboard time range)');
  l.add({
    title: 'Deployment frequency (per day)',
    kind: 'stat',
    w: 6,
    description: 'Successful rollouts in the time range, per day.',
    targets: [{ expr: `sum(increase(paved_rollouts_succeeded_total{${ns}}[$__range])) / ($__range_s / 86400)` }],
  });
  l.add({
    title: 'Lead time p50 (commit to rollout success)',
    kind: 'stat',
    w: 6,
    unit: 's',
    description: 'paved_rollout_lead_time_seconds has no namespace label: all namespaces.',
    targets: [{ expr: 'histogram_quantile(0.5, sum by (le) (increase(paved_rollout_lead_time_seconds_bucket[$__range])))' }],
  });
  l.add({
    title: 'Change failure rate',
    kind: 'stat',
    w: 6,
    unit: 'percentunit',
    description: 'Rolled back / started in the time range.',
    targets: [{ expr: `sum(increase(paved_rollouts_rolled_back_total{${ns}}[$__range])) / clamp_min(sum(increase(paved_rollouts_started_total{${ns}}[$__range])), 1)` }],
    thresholds: [
      { value: null, color: 'green' },
      { value: 0.15, color: 'orange' },
      { value: 0.3, color: 'red' },
    ],
  });
  l.add({
    title: 'Time to restore p50 (failure onset to rollback)',
    kind: 'stat',
    w: 6,
    unit: 's',
    description: 'paved restores by rolling back: the time from the first failing analysis measurement to the rollback.',
    targets: [{ expr: 'histogram_quantile(0.5, sum by (le) (increase(paved_rollout_failure_to_rollback_seconds_bucket[$__range])))' }],
  });
}

/** The "Rollouts" row of paved-delivery. */
function deliveryRolloutsRow(l: Layout, ns: string): void {
  l.row('Rollouts');
  l.add({
    title: 'Rollouts started / succeeded / rolled back',
    w: 12,
    targets: [
      { expr: `sum(increase(paved_rollouts_started_total{${ns}}[$__rate_interval]))`, legend: 'started' },
      { expr: `sum(increase(paved_rollouts_succeeded_total{${ns}}[$__rate_interval]))`, legend: 'succeeded' },
      { expr: `sum(increase(paved_rollouts_rolled_back_total{${ns}}[$__rate_interval]))`, legend: 'rolled back' },
    ],
  });
  l.add({
    title: 'Rollouts per service (time range)',
    kind: 'table',
    w: 12,
    targets: [
      { expr: `sum by (namespace, service) (round(increase(paved_rollouts_started_total{${ns}}[$__range])))`, legend: 'started' },
      { expr: `sum by (namespace, service) (round(increase(paved_rollouts_rolled_back_total{${ns}}[$__range])))`, legend: 'rolled back' },
    ],
  });
  l.add({
    title: 'Rollbacks by reason',
    w: 12,
    targets: [{ expr: `sum by (reason) (increase(paved_rollouts_rolled_back_total{${ns}}[$__rate_interval]))`, legend: '{{reason}}' }],
  });
  l.add({
    title: 'Pauses by reason',
    w: 12,
    targets: [{ expr: `sum by (reason) (increase(paved_rollouts_paused_total{${ns}}[$__rate_interval]))`, legend: '{{reason}}' }],
  });
}

/** The "Steps and analysis" row of paved-delivery. */
function deliveryStepsRow(l: Layout): void {
  l.row('Steps and analysis');
  l.add({
    title: 'Step duration p50 / p95 by step type',
    w: 12,
    unit: 's',
    targets: [
      { expr: 'histogram_quantile(0.5, sum by (le, step_type) (rate(paved_rollout_step_duration_seconds_bucket[$__rate_interval])))', legend: 'p50 {{step_type}}' },
      { expr: 'histogram_quantile(0.95, sum by (le, step_type) (rate(paved_rollout_step_duration_seconds_bucket[$__rate_interval])))', legend: 'p95 {{step_type}}' },
    ],
  });
  l.add({
    title: 'Time from failure onset to rollback (p50 / p95)',
    w: 12,
    unit: 's',
    targets: [
      { expr: 'histogram_quantile(0.5, sum by (le) (rate(paved_rollout_failure_to_rollback_seconds_bucket[$__rate_interval])))', legend: 'p50' },
      { expr: 'histogram_quantile(0.95, sum by (le) (rate(paved_rollout_failure_to_rollback_seconds_bucket[$__rate_interval])))', legend: 'p95' },
    ],
  });
  l.add({
    title: 'Analysis results by metric',
    w: 12,
    targets: [{ expr: 'sum by (metric, phase) (increase(paved_analysis_metric_results_total[$__rate_interval]))', legend: '{{metric}} {{phase}}' }],
  });
  l.add({
    title: 'Analysis failure ratio by template (time range)',
    kind: 'bargauge',
    w: 12,
    unit: 'percentunit',
    min: 0,
    max: 1,
    targets: [
      {
        expr: 'sum by (template) (increase(paved_analysis_metric_results_total{phase!="Successful"}[$__range])) / clamp_min(sum by (template) (increase(paved_analysis_metric_results_total[$__range])), 1)',
        legend: '{{template}}',
      },
    ],
  });
  l.add({
    title: 'Analysis PromQL queries by outcome',
    w: 12,
    unit: 'ops',
    targets: [{ expr: 'sum by (outcome) (rate(paved_analysis_queries_total[$__rate_interval]))', legend: '{{outcome}}' }],
  });
  l.add({
    title: 'Analysis PromQL query duration p99',
    w: 12,
    unit: 's',
    targets: [{ expr: 'histogram_quantile(0.99, sum by (le) (rate(paved_analysis_query_duration_seconds_bucket[$__rate_interval])))', legend: 'p99' }],
  });
}

function delivery(): Dashboard {
  const ns = 'namespace=~"$namespace"';
  const l = new Layout();
  deliveryDoraRow(l, ns);
  deliveryRolloutsRow(l, ns);
  deliveryStepsRow(l);
  return dashboard(
    'paved-delivery',
    'paved / Delivery',
    'Canary rollouts of WebServices: starts, successes, rollbacks, step durations, analysis results and the DORA inputs.',
    [queryVar('namespace', 'Namespace', 'label_values(paved_rollouts_started_total, namespace)')],
    l.panels,
    'now-7d',
  );
}

// ---------------------------------------------------------------------------------------------
// paved-cost (the PromQL of src/cost/queries.ts)

/** The attribution of src/cost/queries.ts, restricted to the teams selected in $team. */
const attribution = namespaceAttribution().replace('label_paved_dev_team!=""', 'label_paved_dev_team=~"$team"');
const byTeam = (value: string): string => `sum by (team) ((${value}) * on (namespace) group_left (team, environment) ${attribution})`;
/** Cost per hour per team (core-hours x price + GiB-hours x price), as the cost API computes it. */
const costPerHour =
  `(${byTeam(hourlyValue('cpuAllocated'))} * $cpu_core_hour)` +
  ` + on (team) (${byTeam(hourlyValue('memoryAllocated'))} * $memory_gib_hour)` +
  ` + on (team) (${byTeam(storagePerClaim)} * $storage_gib_hour or ${byTeam(hourlyValue('memoryAllocated'))} * 0)`;

/** The "Cost per team" row of paved-cost. */
function costCostPerTeamRow(l: Layout): void {
  l.row('Cost per team');
  l.add({
    title: 'Cost per hour by team',
    w: 12,
    unit: 'currencyUSD',
    description: 'max(request, usage) of CPU and memory plus volume claims, priced as in src/cost (docs/cost.md).',
    targets: [{ expr: costPerHour, legend: '{{team}}' }],
  });
  l.add({
    title: 'Burn rate (last 24 h, per day)',
    kind: 'bargauge',
    w: 12,
    unit: 'currencyUSD',
    targets: [{ expr: `sum_over_time((${costPerHour})[24h:1h])`, legend: '{{team}}' }],
  });
  l.add({
    title: 'Cost by team and environment (per hour)',
    kind: 'table',
    w: 24,
    unit: 'currencyUSD',
    targets: [
      {
        expr:
          `sum by (team, environment) ((${hourlyValue('cpuAllocated')}) * on (namespace) group_left (team, environment) ${attribution}) * $cpu_core_hour` +
          ` + on (team, environment) sum by (team, environment) ((${hourlyValue('memoryAllocated')}) * on (namespace) group_left (team, environment) ${attribution}) * $memory_gib_hour`,
        legend: '{{team}} {{environment}}',
      },
    ],
  });
}

/** The "Budgets" row of paved-cost. */
function costBudgetsRow(l: Layout): void {
  l.row('Budgets');
  l.add({
    title: 'Budget status',
    kind: 'stat',
    w: 12,
    description: 'paved_cost_budget_status: the status label of the series at 1 is the current status.',
    targets: [{ expr: 'max by (team, status) (paved_cost_budget_status{team=~"$team"} == 1)', legend: '{{team}}: {{status}}' }],
    thresholds: [{ value: null, color: 'blue' }],
  });
  l.add({
    title: 'Projected month end / budget',
    kind: 'bargauge',
    w: 12,
    unit: 'percentunit',
    min: 0,
    max: 1.5,
    targets: [{ expr: 'max by (team) (paved_cost_budget_projected_ratio{team=~"$team"})', legend: '{{team}}' }],
    thresholds: [
      { value: null, color: 'green' },
      { value: 0.8, color: 'orange' },
      { value: 1, color: 'red' },
    ],
  });
  l.add({
    title: 'Budget threshold crossings',
    w: 24,
    targets: [{ expr: 'sum by (team, status) (increase(paved_cost_budget_crossings_total{team=~"$team"}[$__rate_interval]))', legend: '{{team}} -> {{status}}' }],
  });
}

/** The "Idle resources and efficiency" row of paved-cost. */
function costIdleRow(l: Layout): void {
  l.row('Idle resources and efficiency');
  l.add({
    title: 'Idle CPU cores (requested - used)',
    w: 12,
    description: 'Per container clamp_min(request - usage, 0), summed per team.',
    targets: [{ expr: byTeam(`clamp_min(${cpuRequestPerContainer} - ${cpuUsagePerContainer}, 0)`), legend: '{{team}}' }],
  });
  l.add({
    title: 'Idle memory GiB (requested - used)',
    w: 12,
    targets: [{ expr: byTeam(`clamp_min(${memoryRequestPerContainer} - ${memoryUsagePerContainer}, 0)`), legend: '{{team}}' }],
  });
  l.add({
    title: 'CPU efficiency (used / requested)',
    w: 12,
    unit: 'percentunit',
    targets: [{ expr: `${byTeam(cpuUsagePerContainer)} / ${byTeam(cpuRequestPerContainer)}`, legend: '{{team}}' }],
  });
  l.add({
    title: 'Memory efficiency (used / requested)',
    w: 12,
    unit: 'percentunit',
    targets: [{ expr: `${byTeam(memoryUsagePerContainer)} / ${byTeam(memoryRequestPerContainer)}`, legend: '{{team}}' }],
  });
}

function cost(): Dashboard {
  const l = new Layout();
  costCostPerTeamRow(l);
  costBudgetsRow(l);
  costIdleRow(l);
  return dashboard(
    'paved-cost',
    'paved / Cost',
    'Cost per team from the PromQL of the paved cost model (kube-state-metrics and cAdvisor), burn rate, budget status, idle resources and efficiency.',
    [
      queryVar('team', 'Team', 'label_values(kube_namespace_labels{label_paved_dev_team!=""}, label_paved_dev_team)'),
      constantVar('cpu_core_hour', 'USD per core-hour', '0.031611', 'Price of one vCPU for one hour (pricing.cpuCoreHour).'),
      constantVar('memory_gib_hour', 'USD per GiB-hour', '0.004237', 'Price of one GiB of memory for one hour (pricing.memoryGiBHour).'),
      constantVar('storage_gib_hour', 'USD per claim GiB-hour', String(0.04 / 730), 'Price of one GiB of volume claim for one hour (pricing.storageGiBHour).'),
    ],
    l.panels,
    'now-7d',
  );
}

export function buildDashboards(): Record<string, Dashboard> {
  return { 'paved-platform': platform(), 'paved-delivery': delivery(), 'paved-cost': cost() };
}

export const DASHBOARD_DIR = dirname(fileURLToPath(import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const [name, d] of Object.entries(buildDashboards())) {
    writeFileSync(join(DASHBOARD_DIR, `${name}.json`), `${JSON.stringify(d, null, 2)}\n`);
  }
}
