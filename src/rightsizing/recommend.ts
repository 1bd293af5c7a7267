/**
 * The recommender (pure): usage in, requests out, per container.
 *   CPU    = percentile of the usage rate over the window x (1 + margin)
 *   memory = max working set over the window x (1 + margin), at least oomFactor x the limit it was
 *            last OOM-killed at
 * then raised to the runtime's floors and clamped into the bounds (LimitRange, tier). With less than
 * the window's worth of daily data, no recommendation: the result says how much there is and how much
 * is needed. With an HPA scaling on CPU, CPU is left alone (the HPA and a changed request would fight:
 * the HPA's utilisation is usage / request).
 */
import type { Bounds, ContainerUsage, DailyValue, Floors, RecommendPolicy, Requests } from './types.js';

/** The recommendation of one container. */
export type ContainerRecommendation =
  | {
      kind: 'insufficient';
      daysOfData: number;
      daysNeeded: number;
      /** The resource that is short when only one is (e.g. CPU: no usage rate, the scrape interval is too long for the rate window). */
      resource?: 'cpu' | 'memory';
    }
  | {
      kind: 'recommended';
      /** Absent: not recommended (memory only with a CPU HPA). */
      cpu?: number;
      memory: number;
      /** Why CPU is absent, why memory was raised. */
      notes: string[];
      /** The same rule applied to each day's usage alone (the stability rule reads these). */
      daily: DailyValue[];
    };

/** What the recommender needs to know besides the usage. */
export interface RecommendInput {
  usage: ContainerUsage;
  runtime: string;
  bounds: Bounds;
  /** An HPA scales this service on CPU. */
  cpuHpa: boolean;
}

const clamp = (v: number, min: number | undefined, max: number | undefined): number => {
  let out = v;
  if (min !== undefined && out < min) out = min;
  if (max !== undefined && out > max) out = max;
  return out;
};

/** Whole millicores and whole MiB, so that recommendations print as the API server prints quantities. */
export function roundRequests(r: Requests): Requests {
  return { cpu: Math.max(0.001, Math.ceil(r.cpu * 1000 - 1e-9) / 1000), memory: Math.ceil(r.memory / 2 ** 20 - 1e-9) * 2 ** 20 };
}

function floorsOf(policy: RecommendPolicy, runtime: string): Floors {
  return policy.floors[runtime] ?? policy.floors['generic'] ?? { cpu: 0.001, memory: 2 ** 20 };
}

/** One value: the rule, the floor, the bounds, rounded up. */
function shape(raw: number, floor: number, min: number | undefined, max: number | undefined, unit: number): number {
  const v = clamp(Math.max(raw, floor), min, max);
  return Math.ceil(v / unit - 1e-9) * unit;
}

const MILLI = 0.001;
const MIB = 2 ** 20;

function cpuOf(policy: RecommendPolicy, q: number, floors: Floors, bounds: Bounds): number {
  return shape(q * (1 + policy.cpuMargin), floors.cpu, bounds.min?.cpu, bounds.max?.cpu, MILLI);
}

function memoryOf(policy: RecommendPolicy, max: number, oomLimit: number | undefined, floors: Floors, bounds: Bounds): number {
  const raised = Math.max(max * (1 + policy.memoryMargin), oomLimit !== undefined ? oomLimit * policy.oomFactor : 0);
  return shape(raised, floors.memory, bounds.min?.memory, bounds.max?.memory, MIB);
}

/** Recommends one container's requests (see the module header). */
export function recommendContainer(policy: RecommendPolicy, input: RecommendInput): ContainerRecommendation {
  const { usage, bounds } = input;
  const { memoryMax, cpuQuantile } = usage;
  // A day counts when it has every resource recommended: a history with memory but no CPU rate (one
  // sample per rate window) is no data for CPU, not a full window.
  const withCpu = !(input.cpuHpa && policy.memoryOnlyWithCpuHpa);
  const cpuDays = cpuQuantile === undefined ? 0 : usage.daily.filter((d) => d.cpu !== undefined).length;
  const memoryDays = memoryMax === undefined ? 0 : usage.daily.filter((d) => d.memory !== undefined).length;
  const daysOfData = withCpu ? Math.min(cpuDays, memoryDays) : memoryDays;
  if (daysOfData < policy.windowDays || memoryMax === undefined || (withCpu && cpuQuantile === undefined)) {
    const short = withCpu && cpuDays !== memoryDays ? { resource: cpuDays < memoryDays ? ('cpu' as const) : ('memory' as const) } : {};
    return { kind: 'insufficient', daysOfData: Math.min(daysOfData, policy.windowDays), daysNeeded: policy.windowDays, ...short };
  }
  const floors = floorsOf(policy, input.runtime);
  const notes: string[] = [];
  if (!withCpu) notes.push('an HorizontalPodAutoscaler scales this service on CPU: memory only');
  const memory = memoryOf(policy, memoryMax, usage.oomLimit, floors, bounds);
  if (usage.oomLimit !== undefined && usage.oomLimit * policy.oomFactor > memoryMax * (1 + policy.memoryMargin)) {
    notes.push(`OOM-killed at a ${Math.round(usage.oomLimit / MIB)}Mi limit: memory at least ${policy.oomFactor} x that`);
  }
  const daily: DailyValue[] = usage.daily.map((d) => ({
    day: d.day,
    ...(withCpu && d.cpu !== undefined ? { cpu: cpuOf(policy, d.cpu, floors, bounds) } : {}),
    ...(d.memory !== undefined ? { memory: memoryOf(policy, d.memory, usage.oomLimit, floors, bounds) } : {}),
  }));
  return {
    kind: 'recommended',
    ...(withCpu && cpuQuantile !== undefined ? { cpu: cpuOf(policy, cpuQuantile, floors, bounds) } : {}),
    memory,
    notes,
    daily,
  };
}
