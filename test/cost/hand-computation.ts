/**
 * The expected figures of a synthetic cost history, computed by hand from the shapes (no PromQL,
 * no production code), time-weighted: for each container and each hour in the window, requested =
 * request x (seconds its pod was Running in the hour) / 1h, used = usage x (seconds it ran) / 1h,
 * allocated = max(requested, used); attributed to the team of its namespace and the service of its
 * pod as labelled at the end of the hour (the newest label set, docs/cost.md); summed per group and
 * bucket; prices applied as the docs state them.
 */
import { lifetime, namespaceAt, serviceAt, type CostHistory } from '../support/cost-history.js';

const HOUR = 3600;
const GIB = 1024 ** 3;

export interface HandQuantities {
  cpuAllocated: number;
  cpuRequested: number;
  cpuUsed: number;
  memoryAllocated: number;
  memoryRequested: number;
  memoryUsed: number;
  storage: number;
}

export const zero = (): HandQuantities => ({
  cpuAllocated: 0,
  cpuRequested: 0,
  cpuUsed: 0,
  memoryAllocated: 0,
  memoryRequested: 0,
  memoryUsed: 0,
  storage: 0,
});

export interface HandOptions {
  startSeconds: number;
  endSeconds: number;
  /** Bucket length; defaults to the whole window. */
  stepSeconds?: number;
  /** Group key of a container: e.g. (c) => c.team. */
  key: (c: { team: string; environment: string; namespace: string; service: string }) => string;
  team?: string;
}

/** Map group key -> bucket index -> quantities (hours ending in (start, end]). */
export function handQuantities(h: CostHistory, o: HandOptions): Map<string, HandQuantities[]> {
  const step = o.stepSeconds ?? o.endSeconds - o.startSeconds;
  const nBuckets = (o.endSeconds - o.startSeconds) / step;
  const out = new Map<string, HandQuantities[]>();
  const slot = (key: string, b: number): HandQuantities => {
    let arr = out.get(key);
    if (!arr) {
      arr = Array.from({ length: nBuckets }, zero);
      out.set(key, arr);
    }
    return arr[b] as HandQuantities;
  };
  const nsInfo = new Map(h.namespaces.map((n) => [n.namespace, n]));
  for (let i = 0; i < h.hours; i++) {
    const hourEnd = h.startSeconds + (i + 1) * HOUR;
    if (hourEnd <= o.startSeconds || hourEnd > o.endSeconds) continue;
    const b = Math.floor((hourEnd - o.startSeconds - 1) / step);
    const hourStart = hourEnd - HOUR;
    const teamOf = (namespace: string): { team?: string | undefined; environment?: string | undefined } => {
      const n = nsInfo.get(namespace);
      return n ? namespaceAt(n, hourEnd - 1) : {};
    };
    for (const c of h.containers) {
      const ns = teamOf(c.namespace);
      if (!ns.team || (o.team && ns.team !== o.team)) continue;
      const life = lifetime(h, c);
      // Running and charged coincide here (no Pending phase in the histories).
      const share = Math.max(0, Math.min(life.until, hourEnd) - Math.max(life.from, hourStart)) / HOUR;
      if (share === 0) continue; // not running this hour: a finished pod costs nothing
      const service = serviceAt(c, Math.min(life.listedUntil, hourEnd) - 1);
      const q = slot(o.key({ team: ns.team, environment: ns.environment ?? '', namespace: c.namespace, service }), b);
      const req = c.cpuRequest(i) * share;
      const use = c.cpuUsage(i) * share;
      q.cpuRequested += req;
      q.cpuUsed += use;
      q.cpuAllocated += Math.max(req, use);
      const mreq = (c.memoryRequest(i) / GIB) * share;
      const muse = (c.memoryUsage(i) / GIB) * share;
      q.memoryRequested += mreq;
      q.memoryUsed += muse;
      q.memoryAllocated += Math.max(mreq, muse);
    }
    for (const p of h.pvcs) {
      const ns = teamOf(p.namespace);
      if (!ns.team || (o.team && ns.team !== o.team)) continue;
      slot(o.key({ team: ns.team, environment: ns.environment ?? '', namespace: p.namespace, service: '' }), b).storage += p.bytes / GIB;
    }
  }
  return out;
}

export function sumHand(list: readonly HandQuantities[]): HandQuantities {
  const t = zero();
  for (const q of list) for (const k of Object.keys(t) as Array<keyof HandQuantities>) t[k] += q[k];
  return t;
}

/** OpenCost default prices, as docs/cost.md states them. */
export const PRICES = { cpuCoreHour: 0.031611, memoryGiBHour: 0.004237, storageGiBHour: 0.04 / 730 };

export function handCost(q: HandQuantities): number {
  return q.cpuAllocated * PRICES.cpuCoreHour + q.memoryAllocated * PRICES.memoryGiBHour + q.storage * PRICES.storageGiBHour;
}

/** Rollouts started in hours ending in (start, end], per namespace's team. */
export function handRollouts(h: CostHistory, startSeconds: number, endSeconds: number, team: string): number {
  const nsInfo = new Map(h.namespaces.map((n) => [n.namespace, n]));
  let n = 0;
  for (const r of h.rollouts) {
    if (nsInfo.get(r.namespace)?.team !== team) continue;
    for (const hour of r.hours) {
      const hourEnd = h.startSeconds + (hour + 1) * HOUR;
      if (hourEnd > startSeconds && hourEnd <= endSeconds) n++;
    }
  }
  return n;
}
