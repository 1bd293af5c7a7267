/**
 * The PromQL of the cost model, as pure string builders. docs/cost.md lists the same queries;
 * every figure the API returns is the value of one of them (times a price).
 *
 * Shape of every cost query (one per metric per request, aggregated on the Prometheus side):
 *
 *   sum_over_time( ( sum by (<grouping>) ( <per-container hourly value> * <attribution> ) )[<step>-1s:1h] )
 *
 * evaluated with query_range(start + step, end, step). At each hour the inner expression is the
 * container's cores (or GiB) over that hour; summing the 1-hour subquery samples of a step gives
 * core-hours (GiB-hours) per bucket. The subquery range is `step - 1s` so that it holds exactly
 * step/1h samples under both Prometheus 2 (closed range) and 3 (left-open range).
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
const GIB = 1073741824;
const CONTAINER = 'namespace, pod, container';
const CADVISOR_SELECTOR = 'container!="",container!="POD"';

/** Escapes a value for a PromQL double-quoted string. */
export function promString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** Per container, the average CPU cores requested over the hour (kube-state-metrics). */
export const cpuRequestPerContainer = `max by (${CONTAINER}) (avg_over_time(kube_pod_container_resource_requests{resource="cpu",container!=""}[${RES}]))`;
/** Per container, the average CPU cores used over the hour (cAdvisor). */
export const cpuUsagePerContainer = `sum by (${CONTAINER}) (rate(container_cpu_usage_seconds_total{${CADVISOR_SELECTOR}}[${RES}]))`;
/** Per container, the average memory GiB requested over the hour. */
export const memoryRequestPerContainer = `max by (${CONTAINER}) (avg_over_time(kube_pod_container_resource_requests{resource="memory",container!=""}[${RES}])) / ${GIB}`;
/** Per container, the average working-set GiB over the hour. */
export const memoryUsagePerContainer = `sum by (${CONTAINER}) (avg_over_time(container_memory_working_set_bytes{${CADVISOR_SELECTOR}}[${RES}])) / ${GIB}`;
/** Per claim, the average GiB requested over the hour. */
export const storagePerClaim = `max by (namespace, persistentvolumeclaim) (avg_over_time(kube_persistentvolumeclaim_resource_requests_storage_bytes[${RES}])) / ${GIB}`;

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

/** namespace -> team, environment (from the namespace labels paved.dev/team and paved.dev/environment). */
export function namespaceAttribution(team?: string, range = RES): string {
  const selector = team === undefined ? 'label_paved_dev_team!=""' : `label_paved_dev_team=${promString(team)}`;
  return (
    `max by (namespace, team, environment) (label_replace(label_replace(` +
    `last_over_time(kube_namespace_labels{${selector}}[${range}]), ` +
    `"team", "$1", "label_paved_dev_team", "(.+)"), "environment", "$1", "label_paved_dev_environment", "(.*)"))`
  );
}

/** (namespace, pod) -> service (from the pod label paved.dev/service). */
export const podService =
  `max by (namespace, pod, service) (label_replace(last_over_time(kube_pod_labels{label_paved_dev_service!=""}[${RES}]), ` +
  `"service", "$1", "label_paved_dev_service", "(.+)"))`;

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
    `(${podService} or on (namespace, pod) group by (namespace, pod) (${value}))`
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
    `* on (namespace) group_left (team, environment) ${namespaceAttribution(scope.team, `${windowSeconds}s`)}))`
  );
}
