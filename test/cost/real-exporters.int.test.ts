/**
 * Cost end to end on the real exporters: a Team's namespace and two paved-rendered WebServices with
 * known requests and simulated usage (kwok's usage annotations) run on the shared cluster;
 * kube-state-metrics exports their requests, phases and the namespace's team label, kwok their
 * kubelet-resource usage; a real Prometheus scrapes both; the cost service and routes of paved price
 * what Prometheus holds. Nothing is written by hand into Prometheus.
 *
 * Without waiting an hour: the cost service's clock (`now`, injected) is set to the end of the
 * running hour, so the one-hour window is the hour that holds the data. The hand computation takes
 * the known numbers (requests and usage from the specs) and the time each pod ran as Prometheus saw
 * it, from the raw samples of kube-state-metrics and kwok, counted the way docs/cost.md defines the
 * model: per 5-minute step of the hour, a container is charged its requests when its pod was Pending
 * or Running at some scrape of the step; its memory use counts in the steps kwok reported it; its CPU
 * use is the counter's increase in the hour (Prometheus extrapolates a rate half a scrape interval
 * beyond the first and last samples).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCostRoutes } from '../../src/cost/routes.js';
import { createCostService } from '../../src/cost/service.js';
import { createCostPrometheus } from '../../src/cost/prometheus.js';
import { DEFAULT_PRICING } from '../../src/cost/pricing.js';
import { staticTeamDirectory } from '../../src/cost/teams.js';
import { applyObject, KubeClients } from '../../src/kube/index.js';
import { USAGE_ANNOTATIONS } from '../../src/localcluster/exporters.js';
import type { ApiEnv, Caller } from '../../src/access/index.js';
import { renderWebService, DEFAULT_PLATFORM, type WebService } from '../../src/webservice/index.js';
import { adminKubeConfig, createTestNamespace, uniqueName } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { scrapeSharedCluster, sharedClusterHasExporters, startPrometheus, type LocalPrometheus } from '../support/prometheus.js';

const HOUR = 3600;
const STEP = 300; // the model's proration resolution (docs/cost.md)
const GIB = 1024 ** 3;
const MI = 1024 ** 2;
/** How long the pods run before the cost is read: long enough for a rate, short enough for a test. */
const RUN_SECONDS = 150;

/** The known numbers: per-pod requests and simulated use of each service. */
const SERVICES = {
  api: { replicas: 2, cpu: 0.2, memory: 256 * MI, usedCpu: 0.05, usedMemory: 100 * MI },
  worker: { replicas: 1, cpu: 0.5, memory: 512 * MI, usedCpu: 0.8, usedMemory: 600 * MI }, // uses more than it asks
} as const;
type ServiceName = keyof typeof SERVICES;

const kc = adminKubeConfig();
const clients = KubeClients.fromKubeConfig(kc);
const finance: Caller = { subject: 'carol', groups: ['paved:finance'], teams: [], isPlatformAdmin: false, isFinance: true };

function webService(namespace: string, name: ServiceName): WebService {
  const s = SERVICES[name];
  return {
    apiVersion: 'paved.dev/v1alpha1',
    kind: 'WebService',
    metadata: { name, namespace }, // no uid: nothing for the garbage collector to follow
    spec: {
      image: `registry.example/${name}:1.0.0`,
      scaling: { minReplicas: s.replicas, maxReplicas: s.replicas },
      overrides: {
        resources: { requests: { cpu: `${s.cpu * 1000}m`, memory: `${s.memory / MI}Mi` } },
        annotations: { [USAGE_ANNOTATIONS.cpu]: `${s.usedCpu * 1000}m`, [USAGE_ANNOTATIONS.memory]: `${s.usedMemory / MI}Mi` },
      },
    },
  };
}

interface Series {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

async function raw(prom: LocalPrometheus, selector: string, at: number): Promise<Series[]> {
  const res = await fetch(`${prom.url}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: `${selector}[${2 * HOUR}s]`, time: String(at) }),
  });
  const body = (await res.json()) as { status: string; error?: string; data: { result: Series[] } };
  if (body.status !== 'success') throw new Error(`${selector}: ${body.error}`);
  return body.data.result;
}

/** The 5-minute steps of the hour ending at `end` (Prometheus aligns subquery steps to multiples of the step). */
const stepsOf = (end: number) => Array.from({ length: HOUR / STEP }, (_, i) => end - HOUR + STEP * (i + 1));
/** Steps in which some sample time lies in (t - 5m, t]. */
const stepsWith = (times: readonly number[], steps: readonly number[]) => new Set(steps.filter((t) => times.some((s) => s > t - STEP && s <= t)));

/**
 * A counter's increase over an hour whose samples all lie well inside it, as PromQL's rate x 1h
 * gives it: the sampled increase, extrapolated half an average interval beyond the first and the last
 * sample (the window's edges are far), but not back past the counter's zero.
 */
function extrapolatedIncrease(v: ReadonlyArray<[number, string]>): number {
  if (v.length < 2) return 0;
  const span = v.at(-1)![0] - v[0]![0];
  const increase = Number(v.at(-1)![1]) - Number(v[0]![1]);
  if (increase <= 0) return 0;
  const half = span / (v.length - 1) / 2;
  const toZero = (span * Number(v[0]![1])) / increase;
  return (increase * (span + Math.min(half, toZero) + half)) / span;
}

interface PodHours {
  service: ServiceName;
  requested: number; // charged steps / 12, i.e. hours
  memoryUsedHours: number;
  cpuUsedCoreHours: number;
}

/** Per pod, what the hour holds according to the raw samples in Prometheus. */
async function handHours(prom: LocalPrometheus, namespace: string, hourEnd: number): Promise<Map<string, PodHours>> {
  const at = Date.now() / 1000;
  const steps = stepsOf(hourEnd);
  const phases = await raw(prom, `kube_pod_status_phase{namespace="${namespace}",phase=~"Pending|Running"}`, at);
  const requests = await raw(prom, `kube_pod_container_resource_requests{namespace="${namespace}",resource="cpu"}`, at);
  const memory = await raw(prom, `container_memory_working_set_bytes{namespace="${namespace}",container!=""}`, at);
  const cpu = await raw(prom, `container_cpu_usage_seconds_total{namespace="${namespace}",container!=""}`, at);
  const times = (series: Series[], pod: string, keep: (v: number) => boolean = () => true) =>
    series.filter((s) => s.metric['pod'] === pod).flatMap((s) => s.values.filter(([, v]) => keep(Number(v))).map(([t]) => t));
  const out = new Map<string, PodHours>();
  for (const pod of new Set(requests.map((s) => s.metric['pod'] as string))) {
    const service = (Object.keys(SERVICES) as ServiceName[]).find((n) => pod.startsWith(`${n}-`));
    if (!service) throw new Error(`pod ${pod} belongs to no service of the test`);
    const charged = stepsWith(times(phases, pod, (v) => v > 0), steps);
    const listed = stepsWith(times(requests, pod), steps);
    const requested = [...charged].filter((t) => listed.has(t)).length / steps.length;
    const memoryUsedHours = (stepsWith(times(memory, pod), steps).size / steps.length) * SERVICES[service].usedMemory / GIB;
    let cpuUsedCoreHours = 0;
    for (const s of cpu.filter((c) => c.metric['pod'] === pod)) {
      cpuUsedCoreHours += extrapolatedIncrease(s.values.filter(([t]) => t > hourEnd - HOUR && t <= hourEnd)) / HOUR;
    }
    out.set(pod, { service, requested, memoryUsedHours, cpuUsedCoreHours });
  }
  return out;
}

interface HandTotals {
  cpuRequested: number;
  cpuUsed: number;
  cpuAllocated: number;
  memoryRequested: number;
  memoryUsed: number;
  memoryAllocated: number;
  total: number;
}

/** The team's line of the hour computed by hand from the pods' samples. */
function handTotals(pods: Map<string, PodHours>): HandTotals {
  const hand = { cpuRequested: 0, cpuUsed: 0, cpuAllocated: 0, memoryRequested: 0, memoryUsed: 0, memoryAllocated: 0, total: 0 };
  for (const p of pods.values()) {
    const s = SERVICES[p.service];
    const cpuRequested = s.cpu * p.requested;
    const memoryRequested = (s.memory / GIB) * p.requested;
    hand.cpuRequested += cpuRequested;
    hand.cpuUsed += p.cpuUsedCoreHours;
    hand.cpuAllocated += Math.max(cpuRequested, p.cpuUsedCoreHours);
    hand.memoryRequested += memoryRequested;
    hand.memoryUsed += p.memoryUsedHours;
    hand.memoryAllocated += Math.max(memoryRequested, p.memoryUsedHours);
  }
  hand.total = hand.cpuAllocated * DEFAULT_PRICING.cpuCoreHour + hand.memoryAllocated * DEFAULT_PRICING.memoryGiBHour;
  return hand;
}

describe.skipIf(!sharedClusterHasExporters())('cost of a Team on the real exporters', () => {
  let prom: LocalPrometheus;
  let namespace: string;
  const team = uniqueName('cost-real');
  const applied: KubernetesObject[] = [];

  beforeAll(async () => {
    prom = await startPrometheus({ scrapeIntervalSeconds: 1 });
    await scrapeSharedCluster(prom);
    namespace = await createTestNamespace(team, { 'paved.dev/team': team, 'paved.dev/environment': 'prod' });
    for (const name of Object.keys(SERVICES) as ServiceName[]) {
      const { objects } = renderWebService(webService(namespace, name), { capabilities: { gatewayApi: false, prometheusOperator: false }, platform: DEFAULT_PLATFORM, team });
      for (const o of objects) {
        await applyObject(clients, o as unknown as KubernetesObject);
        applied.push(o as unknown as KubernetesObject);
      }
    }
    await eventually(async () => {
      const pods = await clients.list<KubernetesObject & { status?: { phase?: string } }>('v1', 'Pod', { namespace });
      expect(pods.items.filter((p) => p.status?.phase === 'Running')).toHaveLength(3);
    }, { timeoutMs: 120_000, intervalMs: 1_000 });
    await new Promise((r) => setTimeout(r, RUN_SECONDS * 1000));
  }, 300_000);

  afterAll(async () => {
    for (const o of applied.reverse()) await clients.delete({ apiVersion: o.apiVersion!, kind: o.kind!, namespace, name: o.metadata!.name! }).catch(() => false);
  });

  it('GET /cost/teams for the hour that holds the data equals the hand computation from requests, usage and running time', async () => {
    const hourEnd = Math.ceil(Date.now() / 1000 / HOUR) * HOUR;
    const service = createCostService({
      prometheus: createCostPrometheus({ url: prom.url }),
      teams: staticTeamDirectory([{ name: team }]),
      now: () => new Date(hourEnd * 1000), // the running hour is then the last whole one
    });
    const app = new Hono<ApiEnv>();
    app.use('*', async (c, next) => {
      c.set('caller', finance);
      await next();
    });
    app.route('/', createCostRoutes({ cost: service }));
    // Scraping goes on (every second) while paved queries, so the hand computation is made from the samples
    // Prometheus held just before paved's request and just after it: paved read the data of a moment in
    // between, and each of its figures must lie between the two (within the 0.5% bound). Stopping the scrape
    // instead would write staleness markers that hide the running step from paved.
    const before = handTotals(await handHours(prom, namespace, hourEnd));
    const res = await app.request('/cost/teams?window=1h&step=1h');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { window: { start: string; end: string }; teams: Array<{ team: string; totals: Record<string, number> }> };
    expect(body.window.end).toBe(new Date(hourEnd * 1000).toISOString().replace('.000Z', 'Z'));
    const line = body.teams.find((t) => t.team === team)?.totals;
    expect(line).toBeDefined();

    const pods = await handHours(prom, namespace, hourEnd);
    expect([...pods.values()].map((p) => p.service).sort()).toEqual(['api', 'api', 'worker']);
    for (const p of pods.values()) expect(p.requested).toBeGreaterThan(0); // the pod ran in the hour, as Prometheus saw it
    const after = handTotals(pods);
    const close = (actual: number | undefined, key: keyof HandTotals) => {
      const lo = Math.min(before[key], after[key]);
      const hi = Math.max(before[key], after[key]);
      const a = actual ?? NaN;
      expect(a >= lo - Math.abs(lo) * 0.005 && a <= hi + Math.abs(hi) * 0.005, `${key}: paved ${a} vs hand ${lo}..${hi}`).toBe(true);
    };
    close(line!['cpuRequestedCoreHours'], 'cpuRequested');
    close(line!['cpuUsedCoreHours'], 'cpuUsed');
    close(line!['cpuCoreHours'], 'cpuAllocated');
    close(line!['memoryRequestedGiBHours'], 'memoryRequested');
    close(line!['memoryUsedGiBHours'], 'memoryUsed');
    close(line!['memoryGiBHours'], 'memoryAllocated');
    close(line!['totalCost'], 'total');
    // and the numbers are the ones the specs said: the CPU used is the simulated use times the time it ran
    const ranHours = Math.max(...[...pods.values()].map((p) => p.cpuUsedCoreHours / SERVICES[p.service].usedCpu));
    expect(ranHours * HOUR).toBeGreaterThan(RUN_SECONDS * 0.9);
  });
});
