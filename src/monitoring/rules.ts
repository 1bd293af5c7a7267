/**
 * paved's Prometheus rules, one source for both shipped forms: the PrometheusRule of
 * deploy/components/monitoring (prometheus-operator) and the plain rules file deploy/prometheus/
 * paved.rules.yaml (a Prometheus without the operator, and `promtool test rules`). Pure: written to
 * disk by scripts/gen-monitoring.ts, compared with the committed files by a unit test.
 *
 * - cost: every 5 minutes, the cost model's quantities of the last whole hour per team, environment,
 *   namespace and service (the same PromQL the raw queries evaluate per hour, src/cost/queries.ts),
 *   so a 30-day all-teams report sums 720 samples per group instead of re-deriving every hour of
 *   every container; then the same quantities by team alone, for the by-team reports.
 * - DORA: deployment frequency, change failure rate, lead time and time to restore.
 * - alerts: what an operator of paved must act on; docs/install.md says what to do for each.
 */
import {
  COST_METRICS,
  RECORDED_SERIES,
  RECORDING_INTERVAL_SECONDS,
  TEAM_RECORDED_SERIES,
  costRecordingExpr,
  teamRecordingExpr,
} from '../cost/queries.js';

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
}

export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface RuleGroup {
  readonly name: string;
  readonly interval?: string;
  readonly rules: ReadonlyArray<RecordingRule | AlertingRule>;
}

/** Where each alert's runbook is (docs/install.md, one heading per alert). */
const RUNBOOK = 'https://github.com/paved-dev/paved/blob/main/docs/install.md';

/** namespace -> team from the namespace labels that paved writes (kube-state-metrics). */
const NAMESPACE_TEAM =
  'group by (namespace, team) (label_replace(kube_namespace_labels{label_paved_dev_team!=""}, "team", "$1", "label_paved_dev_team", "(.+)"))';

/** The recorded DORA series, by namespace and by team. */
export const DORA_SERIES = {
  deploymentsPerDay: 'namespace:paved_deployments:increase1d',
  teamDeploymentsPerDay: 'team:paved_deployments:increase1d',
  changeFailureRate: 'namespace:paved_change_failure_rate:ratio7d',
  teamChangeFailureRate: 'team:paved_change_failure_rate:ratio7d',
  leadTimeP50: 'paved:rollout_lead_time_seconds:p50_7d',
  leadTimeP90: 'paved:rollout_lead_time_seconds:p90_7d',
  timeToRestoreP50: 'paved:time_to_restore_seconds:p50_7d',
  timeToRestoreP90: 'paved:time_to_restore_seconds:p90_7d',
} as const;

function costGroup(): RuleGroup {
  return {
    name: 'paved-cost-hourly',
    // Every evaluation records the last whole hour (see costRecordingExpr): an hour is readable one
    // interval after it ends.
    interval: `${RECORDING_INTERVAL_SECONDS / 60}m`,
    rules: [
      ...COST_METRICS.map((metric) => ({ record: RECORDED_SERIES[metric], expr: costRecordingExpr(metric) })),
      // By team, from the per-service series just recorded (a group's rules run in order, each seeing
      // the ones before it at the same evaluation): the all-teams reports read ~1 series per team.
      ...COST_METRICS.map((metric) => ({ record: TEAM_RECORDED_SERIES[metric], expr: teamRecordingExpr(metric) })),
    ],
  };
}

const quantile = (q: number, histogram: string): string =>
  `histogram_quantile(${q}, sum by (le) (rate(${histogram}_bucket[7d])))`;

function doraGroup(): RuleGroup {
  const started = 'sum by (namespace) (increase(paved_rollouts_started_total[7d]))';
  const rolledBack = 'sum by (namespace) (increase(paved_rollouts_rolled_back_total[7d]))';
  const byTeam = (expr: string) => `sum by (team) ((${expr}) * on (namespace) group_left (team) ${NAMESPACE_TEAM})`;
  return {
    name: 'paved-dora',
    interval: '5m',
    rules: [
      // Deployment frequency: promotions in the last day.
      { record: DORA_SERIES.deploymentsPerDay, expr: 'sum by (namespace) (increase(paved_rollouts_succeeded_total[1d]))' },
      { record: DORA_SERIES.teamDeploymentsPerDay, expr: byTeam('sum by (namespace) (increase(paved_rollouts_succeeded_total[1d]))') },
      // Change failure rate: rolled back / started over 7 days (no value without rollouts).
      { record: DORA_SERIES.changeFailureRate, expr: `${rolledBack} / (${started} > 0)` },
      { record: DORA_SERIES.teamChangeFailureRate, expr: `${byTeam(rolledBack)} / (${byTeam(started)} > 0)` },
      // Lead time (controller part: rollout start to promotion) and time to restore.
      { record: DORA_SERIES.leadTimeP50, expr: quantile(0.5, 'paved_rollout_lead_time_seconds') },
      { record: DORA_SERIES.leadTimeP90, expr: quantile(0.9, 'paved_rollout_lead_time_seconds') },
      { record: DORA_SERIES.timeToRestoreP50, expr: quantile(0.5, 'paved_rollout_failure_to_rollback_seconds') },
      { record: DORA_SERIES.timeToRestoreP90, expr: quantile(0.9, 'paved_rollout_failure_to_rollback_seconds') },
    ],
  };
}

function alert(name: string, expr: string, forDuration: string | undefined, severity: string, summary: string, description: string): AlertingRule {
  return {
    alert: name,
    expr,
    ...(forDuration ? { for: forDuration } : {}),
    labels: { severity },
    annotations: { summary, description, runbook_url: `${RUNBOOK}#${name.toLowerCase()}` },
  };
}

/** The alert names, in the order docs/install.md lists them. */
export const ALERTS = [
  'PavedControllerAbsent',
  'PavedReconcileErrors',
  'PavedRolloutPastDeadline',
  'PavedRepeatedRollbacks',
  'PavedBudgetCrossed',
  'PavedStreamClientsDropped',
] as const;

function alertGroup(): RuleGroup {
  const rules: AlertingRule[] = [
    alert(
      'PavedControllerAbsent',
      // No replica scraped, or none holds the lease: nothing reconciles.
      '(sum(paved_leader) or vector(0)) < 1',
      '5m',
      'critical',
      'No paved controller is leading',
      'No replica of paved reports holding the leader Lease for 5 minutes (or none is scraped): Teams and WebServices are not reconciled.',
    ),
    alert(
      'PavedReconcileErrors',
      'sum by (controller) (rate(paved_reconcile_errors_total[10m])) / (sum by (controller) (rate(paved_reconcile_total[10m])) > 0) > 0.1',
      '15m',
      'warning',
      'paved {{ $labels.controller }} reconciles fail',
      'More than 10% of the {{ $labels.controller }} reconciles failed for 15 minutes ({{ $value | humanizePercentage }}).',
    ),
    alert(
      'PavedRolloutPastDeadline',
      'sum by (namespace, service) (increase(paved_rollouts_rolled_back_total{reason="ProgressDeadlineExceeded"}[30m])) > 0',
      undefined,
      'warning',
      'Rollout of {{ $labels.namespace }}/{{ $labels.service }} passed its progress deadline',
      'A rollout of {{ $labels.namespace }}/{{ $labels.service }} did not progress within its deadline and was rolled back.',
    ),
    alert(
      'PavedRepeatedRollbacks',
      'sum by (namespace, service) (increase(paved_rollouts_rolled_back_total[1h])) >= 3',
      undefined,
      'warning',
      '{{ $labels.namespace }}/{{ $labels.service }} keeps rolling back',
      'Three or more rollouts of {{ $labels.namespace }}/{{ $labels.service }} were rolled back in the last hour.',
    ),
    alert(
      'PavedBudgetCrossed',
      'max by (team, status) (paved_cost_budget_status{status=~"warning|over"}) == 1',
      undefined,
      'info',
      'Team {{ $labels.team }} is projected {{ $labels.status }} its monthly budget',
      'The projected month-end cost of team {{ $labels.team }} is past its {{ $labels.status }} threshold.',
    ),
    alert(
      'PavedStreamClientsDropped',
      'sum(increase(paved_api_stream_slow_consumers_total[10m])) + sum(increase(paved_api_stream_dead_peers_total[10m])) > 5',
      undefined,
      'warning',
      'paved is dropping live-stream clients',
      'More than 5 live-stream clients were closed in 10 minutes for a full send buffer or missed heartbeats.',
    ),
  ];
  return { name: 'paved-alerts', rules };
}

/** Every rule group, in a stable order. */
export function renderRuleGroups(): RuleGroup[] {
  return [costGroup(), doraGroup(), alertGroup()];
}

/** The plain Prometheus rules file (`rule_files:`). */
export function renderRulesFile(): { groups: RuleGroup[] } {
  return { groups: renderRuleGroups() };
}

/** The same groups as a prometheus-operator PrometheusRule in the install namespace. */
export function renderPrometheusRule(namespace = 'paved-system'): Record<string, unknown> {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'paved',
      namespace,
      labels: { 'app.kubernetes.io/name': 'paved', 'app.kubernetes.io/part-of': 'paved' },
    },
    spec: { groups: renderRuleGroups() },
  };
}
