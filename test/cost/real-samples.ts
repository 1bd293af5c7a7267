/**
 * The cost model computed by hand from the raw samples a real Prometheus holds (scraped from the
 * shared cluster's kube-state-metrics and kwok), the way docs/cost.md defines it, for one pod and
 * one hour ending at `hourEnd` (the model's buckets are hours; its resolution 5-minute steps):
 *   - requests count in the steps (t - 5m, t] in which kube_pod_status_phase said Pending or Running
 *     at some sample, at the step's average request, whatever else kube-state-metrics still lists;
 *   - memory use counts in the steps kwok reported a working set, at the step's average;
 *   - CPU use is the counter's increase in the hour as PromQL's rate x 1h gives it (extrapolated
 *     the way Prometheus extrapolates, counter resets added back);
 *   - allocated is max(requested, used) per container and hour.
 * Not by the same PromQL: by walking the samples.
 */
import type { HandQuantities } from './hand-computation.js';

export const HOUR = 3600;
export const STEP = 300;
const GIB = 1024 ** 3;

export interface Series {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

/** Every raw sample of `selector` in the `rangeSeconds` before `at`. */
export async function rawSamples(url: string, selector: string, at: number, rangeSeconds: number): Promise<Series[]> {
  const res = await fetch(`${url}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: `${selector}[${rangeSeconds}s]`, time: String(at) }),
  });
  const body = (await res.json()) as { status: string; error?: string; data: { result: Series[] } };
  if (body.status !== 'success') throw new Error(`${selector}: ${body.error}`);
  return body.data.result;
}

/** The 5-minute steps of the hour ending at `hourEnd`. */
export const stepsOf = (hourEnd: number): number[] => Array.from({ length: HOUR / STEP }, (_, i) => hourEnd - HOUR + STEP * (i + 1));

const inStep = (t: number, step: number) => t > step - STEP && t <= step;

/** Per step, the average of the samples of `series` in it (steps without samples are absent). */
function stepAverages(series: readonly Series[], steps: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const step of steps) {
    // max over series of the per-series average, as `max by (container) (avg_over_time(...[5m]))`
    let best: number | undefined;
    for (const s of series) {
      const values = s.values.filter(([t]) => inStep(t, step)).map(([, v]) => Number(v));
      if (values.length === 0) continue;
      const avg = values.reduce((a, b) => a + b, 0) / values.length;
      best = best === undefined ? avg : Math.max(best, avg);
    }
    if (best !== undefined) out.set(step, best);
  }
  return out;
}

/** PromQL's rate(counter[1h]) at `hourEnd` for one series, times one hour (core-hours). */
export function promIncrease(values: ReadonlyArray<[number, string]>, hourEnd: number): number {
  const v = values.filter(([t]) => t > hourEnd - HOUR && t <= hourEnd).map(([t, x]) => [t, Number(x)] as const);
  if (v.length < 2) return 0;
  let increase = v.at(-1)![1] - v[0]![1];
  for (let i = 1; i < v.length; i++) if (v[i]![1] < v[i - 1]![1]) increase += v[i - 1]![1];
  const sampled = v.at(-1)![0] - v[0]![0];
  const average = sampled / (v.length - 1);
  let toStart = v[0]![0] - (hourEnd - HOUR);
  let toEnd = hourEnd - v.at(-1)![0];
  if (toStart >= average * 1.1) toStart = average / 2;
  if (increase > 0 && v[0]![1] >= 0) toStart = Math.min(toStart, sampled * (v[0]![1] / increase));
  if (toEnd >= average * 1.1) toEnd = average / 2;
  return (increase * (sampled + toStart + toEnd)) / sampled / HOUR;
}

/** What the raw samples say about one pod's single container in one hour. */
export interface PodHour {
  /** Steps with a Pending|Running sample, and steps kube-state-metrics listed the pod's requests. */
  chargedSteps: number[];
  listedSteps: number[];
  quantities: HandQuantities;
  /** Requested core-hours and GiB-hours had every listed step been charged (what the old model did). */
  cpuRequestedIfListed: number;
  memoryRequestedIfListed: number;
}

export interface PodSamples {
  phases: Series[]; // kube_pod_status_phase{phase=~"Pending|Running"}
  cpuRequests: Series[];
  memoryRequests: Series[];
  memoryUsage: Series[];
  cpuUsage: Series[];
}

/** The samples of one pod. */
export async function podSamples(url: string, namespace: string, pod: string, at: number, rangeSeconds: number): Promise<PodSamples> {
  const sel = (metric: string, extra = '') => `${metric}{namespace="${namespace}",pod="${pod}"${extra}}`;
  return {
    phases: await rawSamples(url, sel('kube_pod_status_phase', ',phase=~"Pending|Running"'), at, rangeSeconds),
    cpuRequests: await rawSamples(url, sel('kube_pod_container_resource_requests', ',resource="cpu",container!=""'), at, rangeSeconds),
    memoryRequests: await rawSamples(url, sel('kube_pod_container_resource_requests', ',resource="memory",container!=""'), at, rangeSeconds),
    memoryUsage: await rawSamples(url, sel('container_memory_working_set_bytes', ',container!="",container!="POD"'), at, rangeSeconds),
    cpuUsage: await rawSamples(url, sel('container_cpu_usage_seconds_total', ',container!="",container!="POD"'), at, rangeSeconds),
  };
}

/** The hand computation of one hour for a pod with one container. */
export function handPodHour(s: PodSamples, hourEnd: number): PodHour {
  const steps = stepsOf(hourEnd);
  const chargedSteps = steps.filter((t) => s.phases.some((x) => x.values.some(([at, v]) => inStep(at, t) && Number(v) > 0)));
  const cpuReq = stepAverages(s.cpuRequests, steps);
  const memReq = stepAverages(s.memoryRequests, steps);
  const listedSteps = steps.filter((t) => cpuReq.has(t));
  const sumSteps = (m: Map<number, number>, only: readonly number[]) => only.reduce((a, t) => a + (m.get(t) ?? 0), 0) / steps.length;
  const cpuRequested = sumSteps(cpuReq, chargedSteps);
  const memoryRequested = sumSteps(memReq, chargedSteps) / GIB;
  const memUse = stepAverages(s.memoryUsage, steps);
  const memoryUsed = sumSteps(memUse, [...memUse.keys()]) / GIB;
  const cpuUsed = s.cpuUsage.reduce((a, x) => a + promIncrease(x.values, hourEnd), 0);
  const anyCpu = chargedSteps.some((t) => cpuReq.has(t)) || s.cpuUsage.some((x) => x.values.some(([t]) => t > hourEnd - HOUR && t <= hourEnd));
  const anyMem = chargedSteps.some((t) => memReq.has(t)) || memUse.size > 0;
  return {
    chargedSteps,
    listedSteps,
    quantities: {
      cpuRequested,
      cpuUsed,
      cpuAllocated: anyCpu ? Math.max(cpuRequested, cpuUsed) : 0,
      memoryRequested,
      memoryUsed,
      memoryAllocated: anyMem ? Math.max(memoryRequested, memoryUsed) : 0,
      storage: 0,
    },
    cpuRequestedIfListed: sumSteps(cpuReq, listedSteps),
    memoryRequestedIfListed: sumSteps(memReq, listedSteps) / GIB,
  };
}
