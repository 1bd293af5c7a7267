/**
 * Synthetic cost history: the cAdvisor and kube-state-metrics series the cost model reads, for a
 * few teams with known shapes, written as OpenMetrics text for `promtool tsdb create-blocks-from
 * openmetrics` (startPrometheus({ backfillOpenMetrics })).
 *
 * Every figure is defined per model hour: hour `i` covers (start + i h, start + (i+1) h]. Within an
 * hour the request, the CPU rate and the memory working set are constant, and samples are written
 * at `res/2 + k*res` past the hour, so no sample sits on an hour (or 5-minute) boundary: PromQL
 * range functions then see exactly the samples of one hour (step) whatever the boundary convention
 * of the Prometheus version, and a test can compute the expected figures by hand from the shapes.
 *
 * The series are shaped as kube-state-metrics and cAdvisor export them: a pod is listed (requests,
 * labels, `kube_pod_status_phase`, `kube_pod_container_status_running`) from its start until it is
 * deleted, which for a finished Job pod is long after it stopped running (phase Succeeded, running
 * 0); cAdvisor series exist only while the container runs, one per container id, each counter
 * starting at 0 (a restart is a new id and a counter reset); a relabelled namespace or pod is a new
 * label set from the instant of the change.
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
  cpuRequest: (hour: number) => number;
  cpuUsage: (hour: number) => number;
  memoryRequest: (hour: number) => number;
  memoryUsage: (hour: number) => number;
  /** Runs in [runsFrom, runsUntil) (unix seconds; whole 5-minute steps). Default: the whole history. */
  readonly runsFrom?: number;
  readonly runsUntil?: number;
  /** Still listed by kube-state-metrics (phase Succeeded) until then. Default: runsUntil. */
  readonly listedUntil?: number;
  /** A new container id from then on, its CPU counter starting again at 0. */
  readonly restartAt?: number;
  /** The pod's paved.dev/service label changes at `at`. */
  readonly relabel?: { readonly at: number; readonly service: string };
}

export interface NamespaceShape {
  readonly namespace: string;
  /** Absent: a namespace of no team (must not be attributed). */
  readonly team?: string;
  readonly environment?: string;
  /** The namespace's paved.dev/team (and environment) labels change at `at` (unix seconds). */
  readonly moveTo?: { readonly at: number; readonly team: string; readonly environment: string };
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
export function standardCostHistory(resolutionSeconds = 300): CostHistory {
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

/** Sample times to write: [from, until) in unix seconds. */
export interface SampleRange {
  readonly from: number;
  readonly until: number;
}

/** A history being written, possibly only the samples of one time range. */
type Emitting = CostHistory & { readonly emit?: SampleRange };

/** Sample times (unix seconds) and their model hour, in order; only those in `h.emit` when set. */
function* sampleTimes(h: Emitting): Generator<[number, number, number]> {
  const perHour = HOUR / h.resolutionSeconds;
  const first = h.emit ? Math.max(0, Math.floor((h.emit.from - h.startSeconds) / HOUR)) : 0;
  const last = h.emit ? Math.min(h.hours, Math.ceil((h.emit.until - h.startSeconds) / HOUR)) : h.hours;
  for (let hour = first; hour < last; hour++) {
    for (let k = 0; k < perHour; k++) {
      const t = h.startSeconds + hour * HOUR + h.resolutionSeconds / 2 + k * h.resolutionSeconds;
      if (h.emit && (t < h.emit.from || t >= h.emit.until)) continue;
      yield [t, hour, k];
    }
  }
}

/** Writes `metric{labels} value ts` lines of one series: `value(hour, k, t)` per sample, none where undefined. */
function* series(
  h: Emitting,
  name: string,
  lbls: Record<string, string>,
  value: (hour: number, k: number, t: number) => number | undefined,
): Generator<string> {
  const l = labels(lbls);
  let chunk = '';
  for (const [t, hour, k] of sampleTimes(h)) {
    const v = value(hour, k, t);
    if (v === undefined) continue;
    chunk += `${name}${l} ${num(v)} ${t}\n`;
    if (chunk.length > 64_000) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** The interval a container runs in and the one its pod is listed in (unix seconds). */
export function lifetime(h: CostHistory, c: ContainerShape): { from: number; until: number; listedUntil: number } {
  const from = c.runsFrom ?? h.startSeconds;
  const until = c.runsUntil ?? historyEndSeconds(h);
  return { from, until, listedUntil: c.listedUntil ?? until };
}

/** The service label of a container's pod at time t. */
export function serviceAt(c: ContainerShape, t: number): string {
  return c.relabel && t >= c.relabel.at ? c.relabel.service : c.service;
}

/** The team and environment labels of a namespace at time t. */
export function namespaceAt(n: NamespaceShape, t: number): { team?: string | undefined; environment?: string | undefined } {
  return n.moveTo && t >= n.moveTo.at ? n.moveTo : { team: n.team, environment: n.environment };
}

/** Counter value at time t, counting from `base` at `from`, for a rate that is constant within each hour. */
function counter(h: CostHistory, rate: (hour: number) => number, from: number, base: number): (t: number) => number {
  const before: number[] = [0]; // cumulative since the history start at the start of each hour
  for (let i = 0; i < h.hours; i++) before.push((before[i] ?? 0) + rate(i) * HOUR);
  const cumulative = (t: number): number => {
    const hour = Math.min(h.hours - 1, Math.floor((t - h.startSeconds) / HOUR));
    return (before[hour] ?? 0) + rate(hour) * (t - (h.startSeconds + hour * HOUR));
  };
  const at0 = cumulative(from);
  return (t) => base + cumulative(t) - at0;
}

const within = (t: number, from: number, until: number): boolean => t >= from && t < until;

/** The cAdvisor series of one container: one per container id, as [labels, presence, counter]. */
function cadvisorIds(h: CostHistory, c: ContainerShape): Array<{ id: string; from: number; until: number; cpu: (t: number) => number }> {
  const { from, until } = lifetime(h, c);
  // A container present from the history start has run before it: a non-zero counter.
  const base = c.runsFrom === undefined ? 1_000 : 0;
  const first = `/kubepods/${c.namespace}/${c.pod}/${c.container}-1`;
  if (c.restartAt === undefined) return [{ id: first, from, until, cpu: counter(h, c.cpuUsage, from, base) }];
  return [
    { id: first, from, until: c.restartAt, cpu: counter(h, c.cpuUsage, from, base) },
    { id: `/kubepods/${c.namespace}/${c.pod}/${c.container}-2`, from: c.restartAt, until, cpu: counter(h, c.cpuUsage, c.restartAt, 0) },
  ];
}

/**
 * OpenMetrics text of the history as chunks (so a large history need not be one string), metric
 * families in one block each, ending in `# EOF`. With `range`, only the samples at times in it, with the
 * values of the whole history (counters carry on), so a long history can be written as one file per
 * time range, each read once by promtool.
 */
export function* costHistoryOpenMetricsChunks(history: CostHistory, range?: SampleRange): Generator<string> {
  const h: Emitting = range ? { ...history, emit: range } : history;
  yield '# TYPE container_cpu_usage_seconds counter\n';
  for (const c of h.containers) {
    for (const run of cadvisorIds(h, c)) {
      const id = { namespace: c.namespace, pod: c.pod, container: c.container, id: run.id };
      yield* series(h, 'container_cpu_usage_seconds_total', { ...id, cpu: 'total' }, (_h, _k, t) => (within(t, run.from, run.until) ? run.cpu(t) : undefined));
    }
  }
  yield '# TYPE container_memory_working_set_bytes gauge\n';
  for (const c of h.containers) {
    for (const run of cadvisorIds(h, c)) {
      const id = { namespace: c.namespace, pod: c.pod, container: c.container, id: run.id };
      yield* series(h, 'container_memory_working_set_bytes', id, (hour, _k, t) =>
        within(t, run.from, run.until) ? Math.round(c.memoryUsage(hour)) : undefined,
      );
    }
  }
  yield '# TYPE kube_pod_container_resource_requests gauge\n';
  for (const c of h.containers) {
    const id = { namespace: c.namespace, pod: c.pod, container: c.container };
    const { from, listedUntil } = lifetime(h, c);
    const listed = (t: number): boolean => within(t, from, listedUntil);
    yield* series(h, 'kube_pod_container_resource_requests', { ...id, resource: 'cpu', unit: 'core' }, (hour, _k, t) =>
      listed(t) ? c.cpuRequest(hour) : undefined,
    );
    yield* series(h, 'kube_pod_container_resource_requests', { ...id, resource: 'memory', unit: 'byte' }, (hour, _k, t) =>
      listed(t) ? Math.round(c.memoryRequest(hour)) : undefined,
    );
  }
  yield '# TYPE kube_pod_container_status_running gauge\n';
  for (const c of h.containers) {
    const { from, until, listedUntil } = lifetime(h, c);
    yield* series(h, 'kube_pod_container_status_running', { namespace: c.namespace, pod: c.pod, container: c.container }, (_h, _k, t) =>
      within(t, from, listedUntil) ? (t < until ? 1 : 0) : undefined,
    );
  }
  // Pod-level series once per pod (the first container's lifetime stands for the pod's).
  const pods = new Map<string, ContainerShape>();
  for (const c of h.containers) if (!pods.has(`${c.namespace}/${c.pod}`)) pods.set(`${c.namespace}/${c.pod}`, c);
  yield '# TYPE kube_pod_status_phase gauge\n';
  for (const c of pods.values()) {
    const { from, until, listedUntil } = lifetime(h, c);
    for (const phase of ['Running', 'Succeeded']) {
      yield* series(h, 'kube_pod_status_phase', { namespace: c.namespace, pod: c.pod, phase }, (_h, _k, t) =>
        within(t, from, listedUntil) ? Number((t < until) === (phase === 'Running')) : undefined,
      );
    }
  }
  yield '# TYPE kube_pod_labels gauge\n';
  for (const c of pods.values()) {
    const { from, listedUntil } = lifetime(h, c);
    const services = c.relabel ? [c.service, c.relabel.service] : [c.service];
    for (const service of services) {
      yield* series(h, 'kube_pod_labels', { namespace: c.namespace, pod: c.pod, label_paved_dev_service: service }, (_h, _k, t) =>
        within(t, from, listedUntil) && serviceAt(c, t) === service ? 1 : undefined,
      );
    }
  }
  yield '# TYPE kube_namespace_labels gauge\n';
  for (const n of h.namespaces) {
    const sets = n.moveTo ? [{ team: n.team, environment: n.environment }, n.moveTo] : [{ team: n.team, environment: n.environment }];
    for (const set of sets) {
      const l: Record<string, string> = { namespace: n.namespace };
      if (set.team) l['label_paved_dev_team'] = set.team;
      if (set.environment) l['label_paved_dev_environment'] = set.environment;
      yield* series(h, 'kube_namespace_labels', l, (_h, _k, t) => (namespaceAt(n, t).team === set.team ? 1 : undefined));
    }
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
export function singleTeamHistory(team: string, endSeconds = STANDARD_END, days = 35, resolutionSeconds = 300): CostHistory {
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
