/**
 * The engine's PromQL: a handful of queries for the whole cluster per run, aggregated by namespace,
 * WebService and container, never one per workload (KRR's way overloads Prometheus on a thousand pods,
 * krr#332). Pods map to their WebService through the `paved.dev/service` label paved puts on them, as
 * kube-state-metrics exports it (`kube_pod_labels{label_paved_dev_service}`), so that pods which have
 * gone since still count. cAdvisor's pod-level (container="") and sandbox (container="POD") series are
 * left out.
 *
 *  1. CPU: the percentile over the window of the per-service maximum of the usage rate (settings.rateWindow),
 *     the pods joined to their service inside the subquery (a percentile of the maximum over replicas is
 *     not the maximum of their percentiles);
 *  2. memory: the maximum working set over the window: per pod inside the subquery, joined to the service
 *     once outside it (a maximum of maxima is the same maximum, and the join at every 5-minute step was
 *     half of the query's time, docs/rightsizing.md "Benchmark");
 *  3, 4. the same per UTC day over the last `historyDays` days (one range query each, step 1 day);
 *  5. the memory limit at the last OOM kill (kube-state-metrics' last terminated reason), over the window
 *     and now.
 * The watch after an apply adds a few per watched service (latency, errors, OOM kills, throttling).
 */
import type { CostPrometheus, Series } from '../cost/prometheus.js';
import type { ContainerUsage, RightsizingSettings } from './types.js';

const SERVICE_LABEL = 'label_paved_dev_service';
const BY = `namespace, ${SERVICE_LABEL}, container`;
const POD_SERVICE = `max by (namespace, pod, ${SERVICE_LABEL}) (kube_pod_labels{${SERVICE_LABEL}!=""})`;
const CONTAINERS = 'container!="",container!="POD"';

/** The subquery step: usage is judged on 5-minute rates. */
export const SUBQUERY_STEP = '5m';

export const cpuByService = (rateWindow = '5m'): string =>
  `max by (${BY}) (sum by (namespace, pod, container) (rate(container_cpu_usage_seconds_total{${CONTAINERS}}[${rateWindow}])) * on (namespace, pod) group_left (${SERVICE_LABEL}) ${POD_SERVICE})`;
/**
 * The maximum working set of every service's containers over `range` ending at the evaluation time:
 * each pod's maximum (a subquery per pod, no join at its steps), joined once to the service its pod had
 * in that range (one per pod: a pod relabelled meanwhile counts for one of them, not an error).
 */
export const memoryMaxOver = (range: string): string =>
  `max by (${BY}) (max_over_time((max by (namespace, pod, container) (container_memory_working_set_bytes{${CONTAINERS}}))[${range}:${SUBQUERY_STEP}]) * on (namespace, pod) group_left (${SERVICE_LABEL}) topk by (namespace, pod) (1, max by (namespace, pod, ${SERVICE_LABEL}) (max_over_time(kube_pod_labels{${SERVICE_LABEL}!=""}[${range}]))))`;
export const oomLimitByService = (): string =>
  `max by (${BY}) (max by (namespace, pod, container) (kube_pod_container_resource_limits{resource="memory"}) * on (namespace, pod, container) group_left () (max by (namespace, pod, container) (kube_pod_container_status_last_terminated_reason{reason="OOMKilled"}) == 1) * on (namespace, pod) group_left (${SERVICE_LABEL}) ${POD_SERVICE})`;

/** The queries of one run. */
export function runQueries(s: RightsizingSettings): { cpu: string; memory: string; cpuDaily: string; memoryDaily: string; oom: string } {
  const w = `${s.recommend.windowDays}d`;
  return {
    cpu: `quantile_over_time(${s.recommend.cpuQuantile}, (${cpuByService(s.rateWindow)})[${w}:${SUBQUERY_STEP}])`,
    memory: memoryMaxOver(w),
    cpuDaily: `quantile_over_time(${s.recommend.cpuQuantile}, (${cpuByService(s.rateWindow)})[1d:${SUBQUERY_STEP}])`,
    memoryDaily: memoryMaxOver('1d'),
    // A subquery's points sit on multiples of its step, so a kill in the last 5 minutes is not in it yet:
    // the current value joins it (max of both; label_replace keeps the two apart for `or`).
    oom: `max by (${BY}) (label_replace(max_over_time((${oomLimitByService()})[${w}:${SUBQUERY_STEP}]), "at", "window", "", "") or label_replace(${oomLimitByService()}, "at", "now", "", ""))`,
  };
}

const keyOfSeries = (l: Readonly<Record<string, string>>): string | undefined => {
  const ns = l['namespace'];
  const ws = l[SERVICE_LABEL];
  const c = l['container'];
  return ns && ws && c ? `${ns}/${ws}/${c}` : undefined;
};

const DAY = 86_400;
const dayOf = (endSeconds: number): string => new Date((endSeconds - DAY) * 1000).toISOString().slice(0, 10);

/** Reads the whole cluster's usage in five queries (see the module header). Throws when Prometheus fails. */
export async function queryUsage(prom: CostPrometheus, s: RightsizingSettings, at: Date): Promise<Map<string, ContainerUsage>> {
  const q = runQueries(s);
  // Days end at UTC midnight: the daily points are the whole days before `at`.
  const now = Math.floor(at.getTime() / 1000);
  const lastMidnight = now - (now % DAY);
  const from = lastMidnight - (s.historyDays - 1) * DAY;
  const [cpu, memory, cpuDaily, memoryDaily, oom] = await Promise.all([
    prom.instantQuery(q.cpu, now),
    prom.instantQuery(q.memory, now),
    prom.rangeQuery(q.cpuDaily, from, lastMidnight, DAY),
    prom.rangeQuery(q.memoryDaily, from, lastMidnight, DAY),
    prom.instantQuery(q.oom, now),
  ]);
  const out = new Map<string, ContainerUsage & { dailyMap: Map<string, { day: string; cpu?: number; memory?: number }> }>();
  const entry = (l: Readonly<Record<string, string>>) => {
    const key = keyOfSeries(l);
    if (!key) return undefined;
    let e = out.get(key);
    if (!e) {
      e = { namespace: l['namespace']!, webService: l[SERVICE_LABEL]!, container: l['container']!, daily: [], dailyMap: new Map() };
      out.set(key, e);
    }
    return e;
  };
  const last = (sr: Series): number | undefined => {
    const v = sr.points.at(-1)?.[1];
    return v === undefined || !Number.isFinite(v) ? undefined : v;
  };
  for (const sr of cpu) { const e = entry(sr.labels); const v = last(sr); if (e && v !== undefined) e.cpuQuantile = v; }
  for (const sr of memory) { const e = entry(sr.labels); const v = last(sr); if (e && v !== undefined) e.memoryMax = v; }
  for (const sr of oom) { const e = entry(sr.labels); const v = last(sr); if (e && v !== undefined) e.oomLimit = v; }
  const daily = (list: Series[], field: 'cpu' | 'memory') => {
    for (const sr of list) {
      const e = entry(sr.labels);
      if (!e) continue;
      for (const [t, v] of sr.points) {
        if (!Number.isFinite(v)) continue;
        const day = dayOf(t);
        const d = e.dailyMap.get(day) ?? { day };
        d[field] = v;
        e.dailyMap.set(day, d);
      }
    }
  };
  daily(cpuDaily, 'cpu');
  daily(memoryDaily, 'memory');
  const result = new Map<string, ContainerUsage>();
  for (const [key, { dailyMap, ...u }] of out) {
    result.set(key, { ...u, daily: [...dailyMap.values()].sort((a, b) => (a.day < b.day ? -1 : 1)) });
  }
  return result;
}

/** The number of queries one run sends (the benchmark compares it with one query set per workload). */
export const QUERIES_PER_RUN = 5;

/** The watch queries of one service, evaluated at `at` (latency and errors from the analysis templates' PromQL). */
export function watchQueries(namespace: string, service: string, windowSeconds: number, templates: { latency: string; errorRate: string }) {
  const sel = `namespace="${namespace}"`;
  const pods = `(max by (namespace, pod) (kube_pod_labels{${sel},${SERVICE_LABEL}="${service}"}))`;
  const fill = (t: string, interval: string): string =>
    t.replaceAll('{{namespace}}', namespace).replaceAll('{{service}}', service).replaceAll('{{track}}', 'stable').replaceAll('{{interval}}', interval);
  const w = `${Math.max(1, Math.round(windowSeconds))}s`;
  return {
    latency: (interval: string) => fill(templates.latency, interval),
    errorRate: (interval: string) => fill(templates.errorRate, interval),
    oomKills: `sum(increase(kube_pod_container_status_restarts_total{${sel}}[${w}]) * on (namespace, pod, container) group_left () (max by (namespace, pod, container) (kube_pod_container_status_last_terminated_reason{${sel},reason="OOMKilled"}) == 1) * on (namespace, pod) group_left () ${pods})`,
    throttling: `sum(rate(container_cpu_cfs_throttled_periods_total{${sel},${CONTAINERS}}[${w}]) * on (namespace, pod) group_left () ${pods}) / sum(rate(container_cpu_cfs_periods_total{${sel},${CONTAINERS}}[${w}]) * on (namespace, pod) group_left () ${pods})`,
    window: w,
  };
}
