/**
 * Builds the Grafana dashboards of paved (dashboards/*.json) from TypeScript, so that the cost
 * panels reuse the PromQL of src/cost/queries.ts verbatim. The committed artifacts are the .json
 * files; regenerate them with `node --import tsx dashboards/build.ts` (test/dashboards checks that
 * the committed files equal the builder's output).
 */
import { writeFileSync } from 'node:fs';
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import {
  DashboardBuilder,
  DashboardLinkBuilder,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  RowBuilder,
  TextBoxVariableBuilder,
} from '@grafana/grafana-foundation-sdk/dashboard';
import * as gauge from '@grafana/grafana-foundation-sdk/gauge';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  cpuRequestPerContainer,
  cpuUsagePerContainer,
  hourlyValue,
  memoryRequestPerContainer,
  memoryUsagePerContainer,
  namespaceAttribution,
  RECORDED_SERIES,
  storagePerClaim,
} from '../src/cost/queries.js';
import { DORA_SERIES } from '../src/monitoring/rules.js';

/** A dashboard as Grafana's import dialog reads it: the SDK's model plus `__inputs`/`__requires`. */
export type Dashboard = dashboard.Dashboard & {
  readonly __inputs: readonly unknown[];
  readonly __requires: readonly unknown[];
};

/** Every query goes to the Prometheus the importer picks (the `${DS_PROMETHEUS}` input). */
const DS: common.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

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
  readonly mappings?: dashboard.ValueMapping[];
}

type AnyPanelBuilder = timeseries.PanelBuilder | stat.PanelBuilder | gauge.PanelBuilder | table.PanelBuilder | bargauge.PanelBuilder;

function panelBuilder(kind: Kind): AnyPanelBuilder {
  switch (kind) {
    case 'timeseries':
      return new timeseries.PanelBuilder()
        .legend(new common.VizLegendOptionsBuilder().displayMode(common.LegendDisplayMode.Table).placement(common.LegendPlacement.Bottom).showLegend(true).calcs(['lastNotNull', 'max']))
        .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending));
    case 'stat':
      return new stat.PanelBuilder().reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false)).graphMode(common.BigValueGraphMode.None);
    case 'gauge':
      return new gauge.PanelBuilder().reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
    case 'table':
      return new table.PanelBuilder().showHeader(true);
    case 'bargauge':
      return new bargauge.PanelBuilder().reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
  }
}

/**
 * Rows and panels in reading order on a foundation-SDK DashboardBuilder (which lays them out on the
 * 24-column grid), with ids from 1 so that the JSON stays stable between builds.
 */
class Layout {
  private id = 0;
  constructor(readonly builder: DashboardBuilder) {}

  row(title: string): void {
    this.builder.withRow(new RowBuilder(title).id(++this.id));
  }

  add(p: PanelSpec): void {
    const kind = p.kind ?? 'timeseries';
    const w = p.w ?? 12;
    const h = p.h ?? (kind === 'timeseries' || kind === 'table' ? 8 : 5);
    const instantDefault = kind !== 'timeseries';
    const panel = panelBuilder(kind)
      .id(++this.id)
      .title(p.title)
      .gridPos({ x: 0, y: 0, w, h })
      .datasource(DS)
      .thresholds(
        new dashboard.ThresholdsConfigBuilder()
          .mode(dashboard.ThresholdsMode.Absolute)
          .steps((p.thresholds ?? [{ value: null, color: 'green' }]).map((t) => ({ value: t.value, color: t.color }))),
      );
    if (p.description) panel.description(p.description);
    if (p.unit) panel.unit(p.unit);
    if (p.min !== undefined) panel.min(p.min);
    if (p.max !== undefined) panel.max(p.max);
    if (p.mappings) panel.mappings(p.mappings);
    p.targets.forEach((t, i) => {
      const instant = t.instant ?? instantDefault;
      const q = new prometheus.DataqueryBuilder().refId(String.fromCharCode(65 + i)).expr(t.expr).datasource(DS);
      if (instant) q.instant();
      else q.range();
      if (t.legend !== undefined) q.legendFormat(t.legend);
      if (kind === 'table') q.format(prometheus.PromQueryFormat.Table);
      panel.withTarget(q);
    });
    this.builder.withPanel(panel);
  }
}

const datasourceVar = new DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus');

function queryVar(name: string, label: string, query: string, opts: { multi?: boolean; includeAll?: boolean } = {}): QueryVariableBuilder {
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(DS)
    .definition(query)
    .query({ query, refId: `${name}-query`, qryType: 1 })
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(opts.multi ?? true)
    .includeAll(opts.includeAll ?? true)
    .allValue('.+');
}

function constantVar(name: string, label: string, value: string, description: string): TextBoxVariableBuilder {
  return new TextBoxVariableBuilder(name)
    .label(label)
    .description(description)
    .defaultValue(value)
    .current({ text: value, value, selected: true })
    .options([{ selected: true, text: value, value }]);
}

/** The team, namespace and service variables, chained: each narrows the next. */
function teamNamespaceServiceVars(): QueryVariableBuilder[] {
  return [
    queryVar('team', 'Team', 'label_values(kube_namespace_labels{label_paved_dev_team!=""}, label_paved_dev_team)'),
    queryVar('namespace', 'Namespace', 'label_values(kube_namespace_labels{label_paved_dev_team=~"$team"}, namespace)'),
    queryVar('service', 'Service', 'label_values(kube_pod_labels{namespace=~"$namespace", label_paved_dev_service!=""}, label_paved_dev_service)'),
  ];
}

interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly vars: ReadonlyArray<QueryVariableBuilder | TextBoxVariableBuilder>;
  readonly rows: (l: Layout) => void;
  readonly from?: string;
}

/**
 * One dashboard: the SDK builder's model, plus `__inputs` (the import dialog asks for the Prometheus
 * data source, which fills the `${datasource}` variable) and `__requires`.
 */
function dashboardFrom(spec: DashboardSpec): Dashboard {
  const builder = new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(['paved', ...spec.tags])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .time({ from: spec.from ?? 'now-6h', to: 'now' })
    .refresh('1m')
    .timezone('utc')
    .version(1)
    .withVariable(datasourceVar)
    .link(new DashboardLinkBuilder('paved dashboards').type(dashboard.DashboardLinkType.Dashboards).tags(['paved']).asDropdown(true).includeVars(false).keepTime(true));
  for (const v of spec.vars) builder.withVariable(v);
  spec.rows(new Layout(builder));
  const built = builder.build();
  // The data source variable starts at the importer's choice.
  const list = (built.templating.list ?? []).map((v) => (v.name === 'datasource' ? { ...v, current: { text: '${DS_PROMETHEUS}', value: '${DS_PROMETHEUS}', selected: true } } : v));
  return {
    __inputs: [{ name: 'DS_PROMETHEUS', label: 'Prometheus', description: 'The Prometheus that scrapes paved, kube-state-metrics and cAdvisor', type: 'datasource', pluginId: 'prometheus', pluginName: 'Prometheus' }],
    __requires: [
      { type: 'grafana', id: 'grafana', name: 'Grafana', version: '10.0.0' },
      { type: 'datasource', id: 'prometheus', name: 'Prometheus', version: '1.0.0' },
    ],
    ...built,
    templating: { list },
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
    mappings: [{ type: dashboard.MappingType.ValueToText, options: { '0': { text: 'follower', color: 'blue' }, '1': { text: 'leader', color: 'green' } } }],
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
  return dashboardFrom({
    uid: 'paved-platform',
    title: 'paved / Platform',
    description: 'Health of the paved controllers (reconciles, queues, Kubernetes API, leader election), API and stream clients, golden-path adoption, escape hatches and policy violations.',
    tags: ['platform'],
    vars: [queryVar('controller', 'Controller', 'label_values(paved_reconcile_total, controller)')],
    rows: (l) => {
      platformControllersRow(l, c);
      platformWorkQueuesRow(l);
      platformKubernetesApiRow(l);
      platformWebServicesRow(l);
      platformPolicyViolationsRow(l);
      platformApiServerRow(l);
    },
  });
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
  return dashboardFrom({
    // The uid of the first version (paved / Delivery), kept so that links and provisioned copies stay valid.
    uid: 'paved-delivery',
    title: 'paved / Rollouts',
    description: 'Canary rollouts of WebServices: starts, successes, rollbacks by reason, step durations, analysis results and the DORA figures of the recording rules.',
    tags: ['rollouts', 'dora'],
    vars: teamNamespaceServiceVars(),
    rows: (l) => {
      deliveryDoraRow(l, ns);
      deliveryRecordedDoraRow(l);
      deliveryRolloutsRow(l, ns);
      deliveryStepsRow(l);
    },
    from: 'now-7d',
  });
}

/** The DORA figures of the recording rules (src/monitoring/rules.ts), per team. */
function deliveryRecordedDoraRow(l: Layout): void {
  l.row('DORA (recording rules, per team)');
  l.add({ title: 'Deployments per day', w: 6, targets: [{ expr: `${DORA_SERIES.teamDeploymentsPerDay}{team=~"$team"}`, legend: '{{team}}' }] });
  l.add({ title: 'Change failure rate (7 days)', w: 6, unit: 'percentunit', targets: [{ expr: `${DORA_SERIES.teamChangeFailureRate}{team=~"$team"}`, legend: '{{team}}' }] });
  l.add({
    title: 'Lead time (rollout start to promotion, 7 days)',
    w: 6,
    unit: 's',
    targets: [
      { expr: DORA_SERIES.leadTimeP50, legend: 'p50' },
      { expr: DORA_SERIES.leadTimeP90, legend: 'p90' },
    ],
  });
  l.add({
    title: 'Time to restore (failure to traffic on stable, 7 days)',
    w: 6,
    unit: 's',
    targets: [
      { expr: DORA_SERIES.timeToRestoreP50, legend: 'p50' },
      { expr: DORA_SERIES.timeToRestoreP90, legend: 'p90' },
    ],
  });
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
  return dashboardFrom({
    // The uid of the first version (paved / Cost), kept so that links and provisioned copies stay valid.
    uid: 'paved-cost',
    title: 'paved / Team costs',
    description: 'Cost per team from the PromQL of the paved cost model (kube-state-metrics and cAdvisor), the recorded hourly allocation, burn rate against budget, top services, idle spend, efficiency and cost per deployment.',
    tags: ['cost'],
    vars: [
      ...teamNamespaceServiceVars(),
      constantVar('cpu_core_hour', 'USD per core-hour', '0.031611', 'Price of one vCPU for one hour (pricing.cpuCoreHour).'),
      constantVar('memory_gib_hour', 'USD per GiB-hour', '0.004237', 'Price of one GiB of memory for one hour (pricing.memoryGiBHour).'),
      constantVar('storage_gib_hour', 'USD per claim GiB-hour', String(0.04 / 730), 'Price of one GiB of volume claim for one hour (pricing.storageGiBHour).'),
    ],
    rows: (l) => {
      costCostPerTeamRow(l);
      costRecordedRow(l);
      costBudgetsRow(l);
      costIdleRow(l);
    },
    from: 'now-7d',
  });
}

/** Hourly cost from the recorded series (src/cost/queries.ts RECORDED_SERIES), priced like the model. */
const recordedCost = (sel: string, by: string): string =>
  `sum by (${by}) (${RECORDED_SERIES.cpuAllocated}{${sel}}) * $cpu_core_hour + sum by (${by}) (${RECORDED_SERIES.memoryAllocated}{${sel}}) * $memory_gib_hour`;

/** The "Recorded hourly allocation" row of the Team costs dashboard. */
function costRecordedRow(l: Layout): void {
  const sel = 'team=~"$team", namespace=~"$namespace", service=~"$service"';
  l.row('Recorded hourly allocation (recording rules)');
  l.add({ title: 'Cost of the last whole hour by team', unit: 'currencyUSD', targets: [{ expr: recordedCost('team=~"$team"', 'team'), legend: '{{team}}' }] });
  l.add({
    title: 'Top services by cost (last whole hour)',
    kind: 'table',
    unit: 'currencyUSD',
    targets: [{ expr: `topk(10, ${recordedCost(sel, 'team, namespace, service')})`, instant: true }],
  });
  l.add({
    title: 'Cost per deployment (7 days)',
    w: 12,
    unit: 'currencyUSD',
    description: 'Recorded cost of the last 7 days divided by the rollouts promoted in them, per team.',
    targets: [
      {
        expr:
          `sum by (team) (sum_over_time(${RECORDED_SERIES.cpuAllocated}{team=~"$team"}[7d:1h])) * $cpu_core_hour / ` +
          `(sum by (team) (${DORA_SERIES.teamDeploymentsPerDay}{team=~"$team"}) * 7 > 0)`,
        legend: '{{team}}',
      },
    ],
  });
  l.add({
    title: 'Idle spend (requested but unused, last whole hour)',
    w: 12,
    unit: 'currencyUSD',
    targets: [
      {
        expr:
          `sum by (team) (clamp_min(${RECORDED_SERIES.cpuRequested}{team=~"$team"} - ${RECORDED_SERIES.cpuUsed}{team=~"$team"}, 0)) * $cpu_core_hour + ` +
          `sum by (team) (clamp_min(${RECORDED_SERIES.memoryRequested}{team=~"$team"} - ${RECORDED_SERIES.memoryUsed}{team=~"$team"}, 0)) * $memory_gib_hour`,
        legend: '{{team}}',
      },
    ],
  });
}

// ---------------------------------------------------------------------------------------------
// paved-rightsizing (the metrics of the rightsizing engine, docs/rightsizing.md)

function rightsizing(): Dashboard {
  const sel = 'namespace=~"$namespace", webservice=~"$service"';
  return dashboardFrom({
    uid: 'paved-rightsizing',
    title: 'paved / Rightsizing',
    description: 'Requested vs recommended vs used resources per WebService, projected savings, and recommendations applied and rolled back.',
    tags: ['rightsizing', 'cost'],
    vars: teamNamespaceServiceVars(),
    rows: (l) => {
      l.row('Recommendations');
      l.add({ title: 'Recommendations by state', kind: 'stat', w: 8, targets: [{ expr: 'sum by (state) (paved_rightsizing_recommendations)', legend: '{{state}}' }] });
      l.add({
        title: 'Projected monthly savings by team',
        kind: 'bargauge',
        w: 8,
        unit: 'currencyUSD',
        targets: [{ expr: 'sum by (team) (paved_rightsizing_projected_savings_monthly{team=~"$team"})', legend: '{{team}}' }],
      });
      l.add({
        title: 'Top savings by WebService',
        kind: 'table',
        w: 8,
        unit: 'currencyUSD',
        targets: [{ expr: `topk(10, sum by (namespace, webservice) (paved_rightsizing_projected_savings_monthly{team=~"$team", ${sel}}))`, instant: true }],
      });
      l.row('Requested vs recommended vs used');
      l.add({
        title: 'CPU cores',
        unit: 'none',
        targets: [
          { expr: `sum by (namespace, pod) (kube_pod_container_resource_requests{resource="cpu", namespace=~"$namespace"} * on (namespace, pod) group_left () group by (namespace, pod) (kube_pod_labels{label_paved_dev_service=~"$service"}))`, legend: 'requested {{pod}}' },
          { expr: `sum by (namespace, webservice) (paved_rightsizing_recommended_request{resource="cpu", ${sel}})`, legend: 'recommended {{webservice}}' },
          { expr: `sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!="", container!="POD", namespace=~"$namespace"}[1h]) * on (namespace, pod) group_left () group by (namespace, pod) (kube_pod_labels{label_paved_dev_service=~"$service"}))`, legend: 'used {{pod}}' },
        ],
      });
      l.add({
        title: 'Memory',
        unit: 'bytes',
        targets: [
          { expr: `sum by (namespace, pod) (kube_pod_container_resource_requests{resource="memory", namespace=~"$namespace"} * on (namespace, pod) group_left () group by (namespace, pod) (kube_pod_labels{label_paved_dev_service=~"$service"}))`, legend: 'requested {{pod}}' },
          { expr: `sum by (namespace, webservice) (paved_rightsizing_recommended_request{resource="memory", ${sel}})`, legend: 'recommended {{webservice}}' },
          { expr: `sum by (namespace, pod) (container_memory_working_set_bytes{container!="", container!="POD", namespace=~"$namespace"} * on (namespace, pod) group_left () group by (namespace, pod) (kube_pod_labels{label_paved_dev_service=~"$service"}))`, legend: 'used {{pod}}' },
        ],
      });
      l.row('Applied and rolled back');
      l.add({ title: 'Recommendations applied', unit: 'short', targets: [{ expr: 'sum by (namespace) (increase(paved_rightsizing_applied_total{namespace=~"$namespace"}[$__rate_interval]))', legend: '{{namespace}}' }] });
      l.add({
        title: 'Recommendations rolled back by reason',
        unit: 'short',
        targets: [{ expr: 'sum by (namespace, reason) (increase(paved_rightsizing_rolled_back_total{namespace=~"$namespace"}[$__rate_interval]))', legend: '{{namespace}} {{reason}}' }],
      });
    },
    from: 'now-7d',
  });
}

export function buildDashboards(): Record<string, Dashboard> {
  return { 'paved-platform': platform(), 'paved-delivery': delivery(), 'paved-cost': cost(), 'paved-rightsizing': rightsizing() };
}

export const DASHBOARD_DIR = dirname(fileURLToPath(import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const [name, d] of Object.entries(buildDashboards())) {
    writeFileSync(join(DASHBOARD_DIR, `${name}.json`), `${JSON.stringify(d, null, 2)}\n`);
  }
}
