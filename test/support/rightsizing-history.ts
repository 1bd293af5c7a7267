/**
 * Usage history for rightsizing tests and the benchmark, as OpenMetrics text for `promtool tsdb
 * create-blocks-from openmetrics`, shaped like what the kubelet's cAdvisor and kube-state-metrics
 * export: container_cpu_usage_seconds_total (a counter, cpu="total") and
 * container_memory_working_set_bytes per container id with the labels cAdvisor and the kubelet emit
 * (container, id, image, name, namespace, pod, and the scrape's instance, job, metrics_path, node),
 * plus the pod-level cgroup series (container="", image="", name="") that queries must leave out;
 * container_cpu_cfs_periods_total / container_cpu_cfs_throttled_periods_total; kube-state-metrics'
 * kube_pod_labels{label_paved_dev_service} (the label paved puts on pods) and
 * kube_pod_container_resource_requests / _limits. Pods are replaced every `podDays` days (a rollout:
 * new names, new uids, new container ids, counters from 0), so joins across pod churn are exercised.
 *
 * Usage is constant within each hour (`cpu(hour)`, `memory(hour)` with hour 0 the first of the
 * history), so a test can compute the expected percentile and maximum by hand from the shapes.
 */
const HOUR = 3600;

export interface ServiceHistory {
  namespace: string;
  service: string;
  /** Cores and bytes used in model hour h (0 = the first hour of this service's history). */
  cpu: (hour: number) => number;
  memory: (hour: number) => number;
  cpuRequest: number;
  memoryRequest: number;
  memoryLimit: number;
  /** Days of history before `endSeconds` (whole hours). */
  days: number;
  /** Pods at a time. Default 1. */
  replicas?: number;
  /** A pod generation lasts this many days. Default 5. */
  podDays?: number;
  /** Also the CFS period counters and kube-state-metrics' requests (default true; off keeps big histories small). */
  extras?: boolean;
  /** Also cAdvisor's pod-level cgroup series (container=""; default true). */
  podLevel?: boolean;
}

export interface HistoryOptions {
  endSeconds: number;
  resolutionSeconds: number;
}

const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : String(Math.round(v * 1e9) / 1e9));
const labels = (l: Record<string, string>): string =>
  `{${Object.entries(l)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;

interface Pod {
  name: string;
  uid: string;
  from: number;
  until: number;
}

/** The pods of a service: generations of `replicas` pods, each lasting podDays. */
export function podsOf(s: ServiceHistory, o: HistoryOptions): Pod[] {
  const start = o.endSeconds - s.days * 24 * HOUR;
  const span = (s.podDays ?? 5) * 24 * HOUR;
  const out: Pod[] = [];
  for (let g = 0, from = start; from < o.endSeconds; g++, from += span) {
    for (let r = 0; r < (s.replicas ?? 1); r++) {
      const hash = ((g * 7919 + r * 104729 + s.service.length * 31) % 0xfffff).toString(16).padStart(5, '0');
      out.push({ name: `${s.service}-${(g + 1).toString(16).padStart(4, '7')}c9d-${hash}`, uid: `0000${g}${r}-aaaa-bbbb-cccc-${hash.padStart(12, '0')}`, from, until: Math.min(o.endSeconds, from + span) });
    }
  }
  return out;
}

/** Sample times of a pod: res/2 past each step, inside [from, until). */
function* times(p: Pod, res: number): Generator<number> {
  for (let t = p.from + res / 2; t < p.until; t += res) yield t;
}

/** OpenMetrics text of all services (chunks), ending in `# EOF`. */
export function* rightsizingHistoryChunks(services: readonly ServiceHistory[], o: HistoryOptions): Generator<string> {
  const res = o.resolutionSeconds;
  const node = 'kwok-node-0';
  const scrape = { instance: node, job: 'kubelet', metrics_path: '/metrics/cadvisor', node };
  const ksm = { instance: 'kube-state-metrics:8080', job: 'kube-state-metrics' };
  /** A CFS period counter of the app container: `perSecond` periods a second since the pod started. */
  function* cfs(s: ServiceHistory, p: Pod, name: string, perSecond: number): Generator<string> {
    const cid = `containerd-${p.uid.slice(-8)}`;
    const l = labels({ container: 'app', id: `/kubepods/burstable/pod${p.uid}/${cid}`, image: `ghcr.io/acme/${s.service}:1.0.0`, name: cid, namespace: s.namespace, pod: p.name, ...scrape });
    let chunk = '';
    for (const t of times(p, res)) chunk += `${name}${l} ${fmt(Math.floor((t - p.from) * perSecond))} ${t}\n`;
    yield chunk;
  }
  const EXTRA = new Set(['container_cpu_cfs_periods', 'container_cpu_cfs_throttled_periods', 'kube_pod_container_resource_requests']);
  const families: Array<[string, string, (s: ServiceHistory, p: Pod, start: number) => Generator<string>]> = [
    ['container_cpu_usage_seconds', 'counter', function* (s, p, start) {
      const cid = `containerd-${p.uid.slice(-8)}`;
      for (const [container, id, image, name, extra] of [
        ['app', `/kubepods/burstable/pod${p.uid}/${cid}`, `ghcr.io/acme/${s.service}:1.0.0`, cid, 0],
        ['', `/kubepods/burstable/pod${p.uid}`, '', '', 0.05],
      ] as const) {
        if (container === '' && s.podLevel === false) continue;
        const l = labels({ container, cpu: 'total', id, image, name, namespace: s.namespace, pod: p.name, ...scrape });
        let total = 0;
        let last = p.from;
        let chunk = '';
        for (const t of times(p, res)) {
          const h = Math.floor((t - start) / HOUR);
          total += (s.cpu(h) + extra) * (t - last);
          last = t;
          chunk += `container_cpu_usage_seconds_total${l} ${fmt(total)} ${t}\n`;
        }
        yield chunk;
      }
    }],
    ['container_memory_working_set_bytes', 'gauge', function* (s, p, start) {
      const cid = `containerd-${p.uid.slice(-8)}`;
      for (const [container, id, image, name, extra] of [
        ['app', `/kubepods/burstable/pod${p.uid}/${cid}`, `ghcr.io/acme/${s.service}:1.0.0`, cid, 0],
        ['', `/kubepods/burstable/pod${p.uid}`, '', '', 64 * 2 ** 20],
      ] as const) {
        if (container === '' && s.podLevel === false) continue;
        const l = labels({ container, id, image, name, namespace: s.namespace, pod: p.name, ...scrape });
        let chunk = '';
        for (const t of times(p, res)) chunk += `container_memory_working_set_bytes${l} ${fmt(Math.round(s.memory(Math.floor((t - start) / HOUR)) + extra))} ${t}\n`;
        yield chunk;
      }
    }],
    ['container_cpu_cfs_periods', 'counter', (s, p) => cfs(s, p, 'container_cpu_cfs_periods_total', 10)],
    // 1% of periods throttled: under any threshold.
    ['container_cpu_cfs_throttled_periods', 'counter', (s, p) => cfs(s, p, 'container_cpu_cfs_throttled_periods_total', 0.1)],
    ['kube_pod_labels', 'gauge', function* (s, p) {
      const l = labels({ namespace: s.namespace, pod: p.name, uid: p.uid, label_paved_dev_service: s.service, ...ksm });
      let chunk = '';
      for (const t of times(p, res)) chunk += `kube_pod_labels${l} 1 ${t}\n`;
      yield chunk;
    }],
    ['kube_pod_container_resource_requests', 'gauge', function* (s, p) {
      for (const [resource, unit, v] of [['cpu', 'core', s.cpuRequest], ['memory', 'byte', s.memoryRequest]] as const) {
        const l = labels({ namespace: s.namespace, pod: p.name, uid: p.uid, container: 'app', node, resource, unit, ...ksm });
        let chunk = '';
        for (const t of times(p, res)) chunk += `kube_pod_container_resource_requests${l} ${fmt(v)} ${t}\n`;
        yield chunk;
      }
    }],
    ['kube_pod_container_resource_limits', 'gauge', function* (s, p) {
      const l = labels({ namespace: s.namespace, pod: p.name, uid: p.uid, container: 'app', node, resource: 'memory', unit: 'byte', ...ksm });
      let chunk = '';
      for (const t of times(p, res)) chunk += `kube_pod_container_resource_limits${l} ${fmt(s.memoryLimit)} ${t}\n`;
      yield chunk;
    }],
  ];
  for (const [family, type, gen] of families) {
    yield `# TYPE ${family} ${type}\n`;
    for (const s of services) {
      const start = o.endSeconds - s.days * 24 * HOUR;
      if (s.extras === false && EXTRA.has(family)) continue;
      for (const p of podsOf(s, o)) yield* gen(s, p, start);
    }
  }
  yield '# EOF\n';
}

export function rightsizingHistory(services: readonly ServiceHistory[], o: HistoryOptions): string {
  return [...rightsizingHistoryChunks(services, o)].join('');
}

/** The value at quantile q of `values` as PromQL's quantile_over_time computes it (rank q x (n-1), linear). */
export function handQuantile(q: number, values: readonly number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const rank = q * (v.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return v[lo]! + (v[hi]! - v[lo]!) * (rank - lo);
}
