/**
 * The PromQL of the cost model, as pure string builders. docs/cost.md lists the same queries;
 * every figure the API returns is the value of one of them (times a price).
 *
 * Shape of every cost query (one per metric per request, aggregated on the Prometheus side):
 *
 *   sum_over_time( ( sum by (<grouping>) ( <per-container hourly value> * <attribution> ) )[<step>-1s:1h] )
 *
 * evaluated with query_range(start + step, end, step). At each hour the inner expression is the
 * container's core-hours (GiB-hours) in that hour, prorated by the time it was there: requests
 * count only the 5-minute steps (RESOLUTION) in which its pod was Pending or Running, usage only
 * the steps cAdvisor saw it. Summing the 1-hour subquery samples of a step gives core-hours
 * (GiB-hours) per bucket. Subquery ranges are `range - 1s` so that they hold exactly range/step
 * samples under both Prometheus 2 (closed range) and 3 (left-open range).
 */

/** The quantities the model reads, each one PromQL query. */
export const COST_METRICS = [
  'cpuAllocated',
  'cpuRequested',
  'cpuUsed',
  'memoryAllocated',
  'memoryRequested',
  'memoryUsed',
  'storage',
] as const;
export type CostMetric = (typeof COST_METRICS)[number];

/** Grouping labels a query can aggregate by (all produced by the attribution joins). */
export type GroupLabel = 'team' | 'environment' | 'service' | 'namespace';

export interface QueryScope {
  /** Aggregate by these labels (at least `team`). */
  readonly groupBy: readonly GroupLabel[];
  /** Only this team's namespaces. */
  readonly team?: string | undefined;
}

const RES = '1h';
/** The proration resolution: a container is there or not per 5-minute step (OpenCost's default). */
export const RESOLUTION_SECONDS = 300;
const STEP = `${RESOLUTION_SECONDS}s`;
const STEPS_PER_HOUR = 3600 / RESOLUTION_SECONDS;
/** The 12 five-minute steps ending in (T - 1h, T]: `[3599s:300s]` on both Prometheus 2 and 3. */
const IN_HOUR = `[${3600 - 1}s:${STEP}]`;
const GIB = 1073741824;
const CONTAINER = 'namespace, pod, container';
const CADVISOR_SELECTOR = 'container!="",container!="POD"';

/** Escapes a value for a PromQL double-quoted string. */
export function promString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** Sum of a per-step expression over the steps of the hour, in hours (value x step / 1h). */
const hourSum = (perStep: string): string => `sum_over_time((${perStep})${IN_HOUR}) / ${STEPS_PER_HOUR}`;

/**
 * Pods charged for their requests in a step: phase Pending or Running at some scrape of the step
 * (kube-state-metrics keeps exporting a Succeeded or Failed pod's requests until it is deleted).
 */
export const chargedPods = `(max by (namespace, pod) (max_over_time(kube_pod_status_phase{phase=~"Pending|Running"}[${STEP}])) > 0)`;

/**
 * Per container, the requested cores (bytes) in each step while its pod is charged; one series per
 * (namespace, pod, container) whatever the pod uid or exporter instance.
 */
const requestPerStep = (resource: 'cpu' | 'memory'): string =>
  `max by (${CONTAINER}) (avg_over_time(kube_pod_container_resource_requests{resource="${resource}",container!=""}[${STEP}])) and on (namespace, pod) ${chargedPods}`;

/** Per container, the CPU core-hours requested in the hour (charged steps only). */
export const cpuRequestPerContainer = hourSum(requestPerStep('cpu'));
/**
 * Per container, the CPU core-hours used in the hour: the increase of the counter over the hour
 * (rate x 1h), summed over container ids, since each id's counter covers only its own run.
 */
export const cpuUsagePerContainer = `sum by (${CONTAINER}) (rate(container_cpu_usage_seconds_total{${CADVISOR_SELECTOR}}[${RES}]))`;
/** Per container, the memory GiB-hours requested in the hour (charged steps only). */
export const memoryRequestPerContainer = `${hourSum(requestPerStep('memory'))} / ${GIB}`;
/**
 * Per container, the working-set GiB-hours of the hour: per step the largest series of the
 * container (after a restart the old and the new container id overlap; they are not added).
 */
export const memoryUsagePerContainer = `${hourSum(`max by (${CONTAINER}) (avg_over_time(container_memory_working_set_bytes{${CADVISOR_SELECTOR}}[${STEP}]))`)} / ${GIB}`;
/** Per claim, the GiB-hours requested in the hour (the steps the claim is listed). */
export const storagePerClaim = `${hourSum(`max by (namespace, persistentvolumeclaim) (avg_over_time(kube_persistentvolumeclaim_resource_requests_storage_bytes[${STEP}]))`)} / ${GIB}`;

/** max(request, usage) per container and hour (OpenCost's allocation). */
function allocated(request: string, usage: string): string {
  return `max by (${CONTAINER}) (label_replace(${request}, "paved_src", "request", "", "") or label_replace(${usage}, "paved_src", "usage", "", ""))`;
}

/** The per-container (per-claim) hourly value of a metric. */
export function hourlyValue(metric: CostMetric): string {
  switch (metric) {
    case 'cpuAllocated':
      return allocated(cpuRequestPerContainer, cpuUsagePerContainer);
    case 'cpuRequested':
      return cpuRequestPerContainer;
    case 'cpuUsed':
      return cpuUsagePerContainer;
    case 'memoryAllocated':
      return allocated(memoryRequestPerContainer, memoryUsagePerContainer);
    case 'memoryRequested':
      return memoryRequestPerContainer;
    case 'memoryUsed':
      return memoryUsagePerContainer;
    case 'storage':
      return storagePerClaim;
  }
}

/**
 * The newest label set of each `by` group over `rangeSeconds`: the series whose last sample is the
 * latest (ties broken by topk), so a relabel never leaves two label sets to join on.
 */
function newestLabels(metric: string, by: string, rangeSeconds: number): string {
  return `topk by (${by}) (1, max_over_time(timestamp(${metric})[${rangeSeconds - 1}s:${STEP}]))`;
}

/**
 * namespace -> team, environment (the namespace labels paved.dev/team and paved.dev/environment),
 * from the newest label set of the namespace in the range (an hour for the cost queries): a namespace
 * that moves to another team is charged to the new team from the hour of the move on. Value 1.
 */
export function namespaceAttribution(team?: string, rangeSeconds = 3600): string {
  const selector = team === undefined ? 'label_paved_dev_team!=""' : `label_paved_dev_team=${promString(team)}`;
  return (
    `group by (namespace, team, environment) (label_replace(label_replace(` +
    `${newestLabels('kube_namespace_labels', 'namespace', rangeSeconds)} ` +
    `and on (namespace, label_paved_dev_team) last_over_time(kube_namespace_labels{${selector}}[${rangeSeconds}s]), ` +
    `"team", "$1", "label_paved_dev_team", "(.+)"), "environment", "$1", "label_paved_dev_environment", "(.*)"))`
  );
}

/**
 * (namespace, pod) -> service (the pod label paved.dev/service) from the pod's newest label set in
 * the hour; empty when that set has no service label. Value 1.
 */
export const podService =
  `group by (namespace, pod, service) (label_replace(${newestLabels('kube_pod_labels', 'namespace, pod', 3600)}, ` +
  `"service", "$1", "label_paved_dev_service", "(.*)"))`;

/** Every pod seen in the hour by either exporter (the service fallback; cheap, no subquery). */
const podsInHour =
  `group by (namespace, pod) (last_over_time(kube_pod_container_resource_requests{container!=""}[${RES}]) ` +
  `or last_over_time(container_memory_working_set_bytes{${CADVISOR_SELECTOR}}[${RES}]))`;

/**
 * Attributes a per-container vector to team and environment, and to service when asked. A pod
 * without the service label keeps an empty service rather than dropping out, so that a team's
 * breakdown always adds up to its total.
 */
function attributed(value: string, scope: QueryScope, byPod: boolean): string {
  const withTeam = `(${value}) * on (namespace) group_left (team, environment) ${namespaceAttribution(scope.team)}`;
  if (!byPod || !scope.groupBy.includes('service')) return withTeam;
  return (
    `(${withTeam}) * on (namespace, pod) group_left (service) ` +
    `(${podService} or on (namespace, pod) ${podsInHour})`
  );
}

/** The range query of one metric over buckets of `stepSeconds`, grouped as the scope says. */
export function costRangeQuery(metric: CostMetric, scope: QueryScope, stepSeconds: number): string {
  const byPod = metric !== 'storage';
  const groupBy = scope.groupBy.filter((l) => byPod || l !== 'service').join(', ');
  const inner = `sum by (${groupBy}) (${attributed(hourlyValue(metric), scope, byPod)})`;
  return `sum_over_time((${inner})[${stepSeconds - 1}s:${RES}])`;
}

/**
 * Rollouts started in the window, per team (instant query at the window's end). Source: the
 * delivery controller's counter `paved_rollouts_started_total{namespace, ...}`; `round` removes
 * the extrapolation of `increase`.
 */
export function rolloutsQuery(scope: QueryScope, windowSeconds: number, metricName = 'paved_rollouts_started_total'): string {
  const groupBy = scope.groupBy.filter((l) => l !== 'service').join(', ');
  return (
    `round(sum by (${groupBy}) (increase(${metricName}[${windowSeconds}s]) ` +
    `* on (namespace) group_left (team, environment) ${namespaceAttribution(scope.team, windowSeconds)}))`
  );
}

/**
 * Recorded series (the recording rules of src/monitoring/rules.ts, shipped in deploy/): per metric,
 * the quantity of the last whole hour by team, environment, namespace and service (storage has no
 * service). Level:metric:operation names, as Prometheus recommends.
 */
export const RECORDED_SERIES: Readonly<Record<CostMetric, string>> = {
  cpuAllocated: 'team_namespace_service:paved_cost_cpu_allocated_core_hours:1h',
  cpuRequested: 'team_namespace_service:paved_cost_cpu_requested_core_hours:1h',
  cpuUsed: 'team_namespace_service:paved_cost_cpu_used_core_hours:1h',
  memoryAllocated: 'team_namespace_service:paved_cost_memory_allocated_gib_hours:1h',
  memoryRequested: 'team_namespace_service:paved_cost_memory_requested_gib_hours:1h',
  memoryUsed: 'team_namespace_service:paved_cost_memory_used_gib_hours:1h',
  storage: 'team_namespace:paved_cost_storage_gib_hours:1h',
};

/**
 * The same quantities summed by team alone (rules of the same group, evaluated after the per-service
 * ones: Prometheus evaluates a group's rules in order). What the by-team reports read (all teams, a
 * budget, a trend, cost per deployment): 200 series for 200 teams instead of one per service.
 */
export const TEAM_RECORDED_SERIES: Readonly<Record<CostMetric, string>> = {
  cpuAllocated: 'team:paved_cost_cpu_allocated_core_hours:1h',
  cpuRequested: 'team:paved_cost_cpu_requested_core_hours:1h',
  cpuUsed: 'team:paved_cost_cpu_used_core_hours:1h',
  memoryAllocated: 'team:paved_cost_memory_allocated_gib_hours:1h',
  memoryRequested: 'team:paved_cost_memory_requested_gib_hours:1h',
  memoryUsed: 'team:paved_cost_memory_used_gib_hours:1h',
  storage: 'team:paved_cost_storage_gib_hours:1h',
};

/** What the per-team rule of a metric evaluates: the per-service recorded series of that evaluation, by team. */
export function teamRecordingExpr(metric: CostMetric): string {
  return `sum by (team) (${RECORDED_SERIES[metric]})`;
}

/** Where a cost figure came from: the recorded series, or the raw exporter series. */
export type CostSource = 'recorded' | 'raw';

/**
 * Which recorded series answered: the per-team ones (`team:...`) or the per-service ones
 * (`team_namespace_service:...`, `team_namespace:...` for storage); null when the raw queries did.
 */
export type RecordedLevel = 'team' | 'service';

/** Whether a scope can be answered by the per-team series (it groups by team and nothing finer). */
export const teamLevelScope = (scope: QueryScope): boolean => scope.groupBy.every((l) => l === 'team');

/** How often the cost rules are evaluated; an hour's figures are readable this long after it ends. */
export const RECORDING_INTERVAL_SECONDS = 300;

const RECORDED_GROUPING: readonly GroupLabel[] = ['team', 'environment', 'namespace', 'service'];

/**
 * What the recording rule of a metric evaluates (every RECORDING_INTERVAL_SECONDS): the per-hour
 * inner expression of costRangeQuery at the last whole hour before the evaluation, grouped by every
 * label the API can ask for, so any grouping is a sum of it. Prometheus evaluates a group at an
 * offset of its own within the interval; reading the hour through a 1h-aligned subquery makes every
 * sample between two hour boundaries carry the same, whole, hour, whatever that offset.
 */
export function costRecordingExpr(metric: CostMetric): string {
  const byPod = metric !== 'storage';
  const groupBy = RECORDED_GROUPING.filter((l) => byPod || l !== 'service');
  // offset 1ms: an evaluation exactly on an hour boundary still reads the hour before it, like every
  // other evaluation of that interval.
  return `last_over_time((sum by (${groupBy.join(', ')}) (${attributed(hourlyValue(metric), { groupBy }, byPod)}))[1h:1h] offset 1ms)`;
}

/** The recorded value of the hour ending at each 1h-aligned point, read one interval after it. */
const recordedHour = (series: string): string => `(${series} offset -${RECORDING_INTERVAL_SECONDS}s)`;

/**
 * costRangeQuery from the recorded series (per team, or per service): per bucket, the recorded value
 * of each of its hours (at the same 1h-aligned points as the raw subquery), summed, then grouped as
 * the scope says.
 */
export function recordedRangeQuery(metric: CostMetric, scope: QueryScope, stepSeconds: number, level: RecordedLevel = 'service'): string {
  if (level === 'team' && !teamLevelScope(scope)) throw new Error(`the per-team series cannot group by ${scope.groupBy.join(', ')}`);
  const groupBy = scope.groupBy.filter((l) => metric !== 'storage' || l !== 'service').join(', ');
  const selector = scope.team === undefined ? '' : `{team=${promString(scope.team)}}`;
  const series = (level === 'team' ? TEAM_RECORDED_SERIES : RECORDED_SERIES)[metric];
  return `sum by (${groupBy}) (sum_over_time(${recordedHour(series + selector)}[${stepSeconds - 1}s:${RES}]))`;
}

/**
 * An instant query answering, per level of recorded series (label `level`: "team", "service"), when
 * that level holds both the first and the last hour of a window (unix seconds of the two hours'
 * ends): rules loaded after the window started, or the last hour not recorded yet, leave a gap the
 * raw queries do not have. The per-team rules may have been added after the per-service ones.
 */
export function recordedCoverageQuery(firstHourEnd: number, lastHourEnd: number): string {
  const covers = (s: string, level: RecordedLevel): string => {
    const at = (t: number) => `count(${s} @ ${t + RECORDING_INTERVAL_SECONDS})`;
    return `label_replace(${at(firstHourEnd)} and ${at(lastHourEnd)}, "level", "${level}", "", "")`;
  };
  return `${covers(TEAM_RECORDED_SERIES.cpuAllocated, 'team')} or ${covers(RECORDED_SERIES.cpuAllocated, 'service')}`;
}
