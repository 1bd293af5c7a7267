/**
 * Synthetic cost history: the cAdvisor and kube-state-metrics series the cost model reads, for a
 * few teams with known shapes, written as OpenMetrics text for `promtool tsdb create-blocks-from
 * openmetrics` (startPrometheus({ backfillOpenMetrics })).
 *
 * Every figure is defined per model hour: hour `i` covers (start + i h, start + (i+1) h]. Within an
 * hour the request, the CPU rate and the memory working set are constant, and samples are written
 * at `res/2 + k*res` past the hour, so no sample sits on an hour boundary: PromQL range functions
 * over `[1h]` then see exactly the samples of one hour whatever the boundary convention of the
 * Prometheus version, and a test can compute the expected figures by hand from the shapes below.
 */

const GIB = 1024 ** 3;
const HOUR = 3600;

/** One container with hourly shapes (cores and bytes). */
export interface ContainerShape {
  readonly team: string;
  readonly environment: string;
  readonly namespace: string;
  readonly service: string;
  readonly pod: string;
  readonly container: string;
  cpuRequest(hour: number): number;
  cpuUsage(hour: number): number;
  memoryRequest(hour: number): number;
  memoryUsage(hour: number): number;
}

export interface NamespaceShape {
  readonly namespace: string;
  /** Absent: a namespace of no team (must not be attributed). */
  readonly team?: string;
  readonly environment?: string;
}

export interface PvcShape {
  readonly namespace: string;
  readonly name: string;
  readonly bytes: number;
}

export interface RolloutShape {
  readonly namespace: string;
  readonly service: string;
  /** Model hours in which one rollout started. */
  readonly hours: readonly number[];
}

export interface CostHistory {
  /** Start of hour 0 (unix seconds, whole hour). */
  readonly startSeconds: number;
  readonly hours: number;
  /** Seconds between samples; divides an hour. */
  readonly resolutionSeconds: number;
  readonly namespaces: readonly NamespaceShape[];
  readonly containers: readonly ContainerShape[];
  readonly pvcs: readonly PvcShape[];
  readonly rollouts: readonly RolloutShape[];
}

/** End of the history (unix seconds): the end of its last hour. */
export function historyEndSeconds(h: CostHistory): number {
  return h.startSeconds + h.hours * HOUR;
}

/** The instant the standard test history ends at (a whole UTC day). */
export const STANDARD_END = Date.UTC(2026, 10, 20, 0, 0, 0) / 1000; // 2026-11-20T00:00:00Z
export const STANDARD_DAYS = 35;

const wave = (hour: number): number => Math.sin((2 * Math.PI * (hour % 24)) / 24);

function container(
  team: string,
  environment: string,
  namespace: string,
  service: string,
  pod: string,
  shape: Pick<ContainerShape, 'cpuRequest' | 'cpuUsage' | 'memoryRequest' | 'memoryUsage'>,
): ContainerShape {
  return { team, environment, namespace, service, pod, container: 'app', ...shape };
}

/**
 * The standard history of the cost tests: three teams over 35 days ending at STANDARD_END.
 *  - cost-alpha (dev, prod): prod/api 2 pods at ~50% of request with a daily wave; prod/worker
 *    bursts above its request from 09:00 to 12:00 UTC (max(request, usage) matters); dev/api idle (5%).
 *  - cost-beta (prod): web ~60%; batch idle (5%); reports at 12% (just above the idle threshold).
 *  - cost-gamma (prod): cache whose usage grows linearly (a trend) and whose CPU request doubles
 *    on day 28; a 100 GiB volume claim.
 *  - kube-system: a container in a namespace of no team (never attributed).
 */
export function standardCostHistory(resolutionSeconds = 1800): CostHistory {
  const hours = STANDARD_DAYS * 24;
  const startSeconds = STANDARD_END - hours * HOUR;
  const containers: ContainerShape[] = [
    ...['api-0', 'api-1'].map((pod) =>
      container('cost-alpha', 'prod', 'cost-alpha-prod', 'api', pod, {
        cpuRequest: () => 1,
        cpuUsage: (h) => 0.5 + 0.3 * wave(h),
        memoryRequest: () => 1 * GIB,
        memoryUsage: (h) => 0.6 * GIB + 0.1 * GIB * wave(h),
      }),
    ),
    container('cost-alpha', 'prod', 'cost-alpha-prod', 'worker', 'worker-0', {
      cpuRequest: () => 0.5,
      cpuUsage: (h) => (h % 24 >= 9 && h % 24 < 12 ? 0.9 : 0.3),
      memoryRequest: () => 0.5 * GIB,
      memoryUsage: (h) => (h % 24 >= 9 && h % 24 < 12 ? 0.75 * GIB : 0.25 * GIB),
    }),
    container('cost-alpha', 'dev', 'cost-alpha-dev', 'api', 'api-0', {
      cpuRequest: () => 1,
      cpuUsage: () => 0.05,
      memoryRequest: () => 1 * GIB,
      memoryUsage: () => 0.2 * GIB,
    }),
    container('cost-beta', 'prod', 'cost-beta', 'web', 'web-0', {
      cpuRequest: () => 0.5,
      cpuUsage: (h) => 0.3 + 0.1 * wave(h),
      memoryRequest: () => 1 * GIB,
      memoryUsage: () => 0.5 * GIB,
    }),
    container('cost-beta', 'prod', 'cost-beta', 'batch', 'batch-0', {
      cpuRequest: () => 2,
      cpuUsage: () => 0.1,
      memoryRequest: () => 2 * GIB,
      memoryUsage: () => 0.5 * GIB,
    }),
    container('cost-beta', 'prod', 'cost-beta', 'reports', 'reports-0', {
      cpuRequest: () => 1,
      cpuUsage: () => 0.12,
      memoryRequest: () => 0.5 * GIB,
      memoryUsage: () => 0.25 * GIB,
    }),
    container('cost-gamma', 'prod', 'cost-gamma', 'cache', 'cache-0', {
      cpuRequest: (h) => (h >= 28 * 24 ? 1 : 0.5),
      cpuUsage: (h) => 0.1 + (0.5 * h) / hours,
      memoryRequest: () => 4 * GIB,
      memoryUsage: () => 3 * GIB,
    }),
    container('', '', 'kube-system', 'coredns', 'coredns-0', {
      cpuRequest: () => 0.1,
      cpuUsage: () => 0.02,
      memoryRequest: () => 0.07 * GIB,
      memoryUsage: () => 0.03 * GIB,
    }),
  ];
  const last30 = (every: number, first: number): number[] => {
    const out: number[] = [];
    for (let h = hours - 30 * 24 + first; h < hours; h += every) out.push(h);
    return out;
  };
  return {
    startSeconds,
    hours,
    resolutionSeconds,
    namespaces: [
      { namespace: 'cost-alpha-prod', team: 'cost-alpha', environment: 'prod' },
      { namespace: 'cost-alpha-dev', team: 'cost-alpha', environment: 'dev' },
      { namespace: 'cost-beta', team: 'cost-beta', environment: 'prod' },
      { namespace: 'cost-gamma', team: 'cost-gamma', environment: 'prod' },
      { namespace: 'kube-system' },
    ],
    containers,
    pvcs: [{ namespace: 'cost-gamma', name: 'data', bytes: 100 * GIB }],
    rollouts: [
      // alpha: every 3 days in the last 30 days (10 rollouts), plus some older ones.
      { namespace: 'cost-alpha-prod', service: 'api', hours: [5, 30, 100, ...last30(72, 10)] },
      // beta: every 6 days (5 rollouts in the last 30 days).
      { namespace: 'cost-beta', service: 'web', hours: last30(144, 20) },
    ],
  };
}

// ---- OpenMetrics ------------------------------------------------------------------------------

function labels(pairs: Record<string, string>): string {
  const body = Object.entries(pairs)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
    .join(',');
  return `{${body}}`;
}

function num(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Math.round(v * 1e9) / 1e9);
}

/** Sample times (unix seconds) and their model hour, in order. */
function* sampleTimes(h: CostHistory): Generator<[number, number, number]> {
  const perHour = HOUR / h.resolutionSeconds;
  for (let hour = 0; hour < h.hours; hour++) {
    for (let k = 0; k < perHour; k++) {
      yield [h.startSeconds + hour * HOUR + h.resolutionSeconds / 2 + k * h.resolutionSeconds, hour, k];
    }
  }
}

/** Writes `metric{labels} value ts` lines of one series: `value(hour, k, t)` per sample. */
function* series(
  h: CostHistory,
  name: string,
  lbls: Record<string, string>,
  value: (hour: number, k: number, t: number) => number,
): Generator<string> {
  const l = labels(lbls);
  let chunk = '';
  for (const [t, hour, k] of sampleTimes(h)) {
    chunk += `${name}${l} ${num(value(hour, k, t))} ${t}\n`;
    if (chunk.length > 64_000) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** Counter value at time t for a rate that is constant within each hour. */
function counter(h: CostHistory, rate: (hour: number) => number): (hour: number, k: number, t: number) => number {
  const before: number[] = [1_000]; // cumulative at the start of each hour; non-zero base
  for (let i = 0; i < h.hours; i++) before.push((before[i] ?? 0) + rate(i) * HOUR);
  return (hour, _k, t) => (before[hour] ?? 0) + rate(hour) * (t - (h.startSeconds + hour * HOUR));
}

/**
 * OpenMetrics text of the history as chunks (so a large history need not be one string), metric
 * families in one block each, ending in `# EOF`.
 */
export function* costHistoryOpenMetricsChunks(h: CostHistory): Generator<string> {
  yield '# TYPE container_cpu_usage_seconds counter\n';
  for (const c of h.containers) {
    const id = { namespace: c.namespace, pod: c.pod, container: c.container };
    yield* series(h, 'container_cpu_usage_seconds_total', { ...id, cpu: 'total' }, counter(h, c.cpuUsage));
  }
  yield '# TYPE container_memory_working_set_bytes gauge\n';
  for (const c of h.containers) {
    const id = { namespace: c.namespace, pod: c.pod, container: c.container };
    yield* series(h, 'container_memory_working_set_bytes', id, (hour) => Math.round(c.memoryUsage(hour)));
  }
  yield '# TYPE kube_pod_container_resource_requests gauge\n';
  for (const c of h.containers) {
    const id = { namespace: c.namespace, pod: c.pod, container: c.container };
    yield* series(h, 'kube_pod_container_resource_requests', { ...id, resource: 'cpu', unit: 'core' }, c.cpuRequest);
    yield* series(h, 'kube_pod_container_resource_requests', { ...id, resource: 'memory', unit: 'byte' }, (hour) =>
      Math.round(c.memoryRequest(hour)),
    );
  }
  yield '# TYPE kube_pod_labels gauge\n';
  for (const c of h.containers) {
    yield* series(h, 'kube_pod_labels', { namespace: c.namespace, pod: c.pod, label_paved_dev_service: c.service }, () => 1);
  }
  yield '# TYPE kube_namespace_labels gauge\n';
  for (const n of h.namespaces) {
    const l: Record<string, string> = { namespace: n.namespace };
    if (n.team) l['label_paved_dev_team'] = n.team;
    if (n.environment) l['label_paved_dev_environment'] = n.environment;
    yield* series(h, 'kube_namespace_labels', l, () => 1);
  }
  if (h.pvcs.length > 0) {
    yield '# TYPE kube_persistentvolumeclaim_resource_requests_storage_bytes gauge\n';
    for (const p of h.pvcs) {
      yield* series(
        h,
        'kube_persistentvolumeclaim_resource_requests_storage_bytes',
        { namespace: p.namespace, persistentvolumeclaim: p.name },
        () => p.bytes,
      );
    }
  }
  if (h.rollouts.length > 0) {
    yield '# TYPE paved_rollouts_started counter\n';
    for (const r of h.rollouts) {
      const sorted = [...r.hours].sort((a, b) => a - b);
      // The rollout of hour i is counted from the second sample of that hour on, so a window
      // starting at the hour still sees the counter move.
      const count = (hour: number, k: number): number => sorted.filter((x) => x < hour || (x === hour && k >= 1)).length;
      yield* series(h, 'paved_rollouts_started_total', { namespace: r.namespace, service: r.service }, count);
    }
  }
  yield '# EOF\n';
}

/** The whole OpenMetrics text (for small histories such as the standard one). */
export function costHistoryOpenMetrics(h: CostHistory): string {
  return [...costHistoryOpenMetricsChunks(h)].join('');
}

/**
 * One team, one namespace (named like the team, environment `prod`), one container at a constant
 * 1 core / 1 GiB requested and half of it used, over `days` days ending at `endSeconds`: its cost is
 * exactly (0.031611 + 0.004237) USD per hour at the default prices.
 */
export function singleTeamHistory(team: string, endSeconds = STANDARD_END, days = 35, resolutionSeconds = 1800): CostHistory {
  const hours = days * 24;
  return {
    startSeconds: endSeconds - hours * HOUR,
    hours,
    resolutionSeconds,
    namespaces: [{ namespace: team, team, environment: 'prod' }],
    containers: [
      container(team, 'prod', team, 'app', 'app-0', {
        cpuRequest: () => 1,
        cpuUsage: () => 0.5,
        memoryRequest: () => GIB,
        memoryUsage: () => 0.5 * GIB,
      }),
    ],
    pvcs: [],
    rollouts: [],
  };
}
