/**
 * The cost API on history shaped the way kube-state-metrics and cAdvisor export a real cluster
 * (test/support/cost-history.ts), against a real Prometheus: pods living 20 minutes inside an
 * hour and across an hour boundary, a Job pod that completes and stays listed for hours, a
 * container restarted with a new container id and a counter reset, a namespace that moves to
 * another team mid-hour, a pod whose service label changes, a team with no data. Expected figures
 * are computed by hand, time-weighted from the shapes (test/cost/hand-computation.ts), per hourly
 * bucket within 0.5%.
 *
 * Then the same on the real exporters: a real Job on the shared cluster (kwok's upstream stages run
 * its pod to completion), its requests and phases read through kube-state-metrics by a real
 * Prometheus, priced by the cost service with its clock set to the end of the running hour, and
 * compared with a hand computation from the samples that Prometheus holds (test/cost/real-samples.ts).
 */
import { Hono } from 'hono';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCostRoutes } from '../../src/cost/routes.js';
import { createCostService } from '../../src/cost/service.js';
import { createCostPrometheus, type CostPrometheus } from '../../src/cost/prometheus.js';
import { DEFAULT_PRICING, parsePricing, type Pricing } from '../../src/cost/pricing.js';
import { costRangeQuery } from '../../src/cost/queries.js';
import { staticTeamDirectory } from '../../src/cost/teams.js';
import { KubeClients } from '../../src/kube/index.js';
import { USAGE_ANNOTATIONS } from '../../src/localcluster/exporters.js';
import type { ApiEnv, Caller } from '../../src/access/index.js';
import { costHistoryOpenMetrics } from '../support/cost-history.js';
import { DAY_START, END, TEAMS, history } from './shape-history.js';
import { expectClose, expectLineClose } from '../support/cost-assertions.js';
import { adminKubeConfig, createTestNamespace, uniqueName } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { scrapeSharedCluster, sharedClusterHasExporters, startPrometheus, stopScrapingSharedCluster, type LocalPrometheus } from '../support/prometheus.js';
import { handQuantities, sumHand, zero, type HandQuantities } from './hand-computation.js';
import { STEP, handPodHour, podSamples, rawSamples, type PodHour } from './real-samples.js';

const HOUR = 3600;
const MIN = 60;
const NOW = new Date((END + 25 * MIN) * 1000);

const finance: Caller = { subject: 'carol', groups: ['paved:finance'], teams: [], isPlatformAdmin: false, isFinance: true };
const DAY_QUERY = `start=${new Date(DAY_START * 1000).toISOString()}&end=${new Date(END * 1000).toISOString()}&step=1h`;

let url = '';

function appFor(prometheus: CostPrometheus): Hono<ApiEnv> {
  const cost = createCostService({ prometheus, teams: staticTeamDirectory(TEAMS.map((name) => ({ name }))), now: () => NOW });
  const app = new Hono<ApiEnv>();
  app.use('*', async (c, next) => {
    c.set('caller', finance);
    await next();
  });
  app.route('/', createCostRoutes({ cost }));
  return app;
}

let app: Hono<ApiEnv>;

beforeAll(async () => {
  const prom = await startPrometheus({ backfillOpenMetrics: costHistoryOpenMetrics(history) });
  url = prom.url;
  app = appFor(createCostPrometheus({ url }));
});

const closeLine = (line: Record<string, unknown>, q: HandQuantities, what: string): void => expectLineClose(line, q, what, ['memoryRequested']);

type Line = Record<string, number>;
interface TeamBody {
  totals: Line;
  series: Line[];
  byService: Array<{ namespace: string; service: string; totals: Line; series: Line[] }>;
}

async function getJson<T>(path: string): Promise<T> {
  const res = await app.request(path);
  expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
  return (await res.json()) as T;
}

const hourly = (key: (c: { team: string; namespace: string; service: string }) => string, team?: string): Map<string, HandQuantities[]> =>
  handQuantities(history, { startSeconds: DAY_START, endSeconds: END, stepSeconds: HOUR, key, ...(team ? { team } : {}) });

describe('cost on exporter-shaped history', () => {
  it('every team, every hour: time-weighted like the hand computation; a team with no data has zeros', async () => {
    const body = await getJson<{ teams: Array<{ team: string; totals: Line; series: Line[] }> }>(`/cost/teams?${DAY_QUERY}`);
    expect(body.teams.map((t) => t.team)).toEqual(TEAMS);
    const hand = hourly((c) => c.team);
    for (const t of body.teams) {
      expect(t.series).toHaveLength(24);
      const buckets = hand.get(t.team) ?? Array.from({ length: 24 }, zero);
      t.series.forEach((b, i) => closeLine(b, buckets[i] as HandQuantities, `${t.team} hour ${i}`));
      closeLine(t.totals, sumHand(buckets), `${t.team} total`);
    }
    const empty = body.teams.find((t) => t.team === 'shape-empty');
    expect(empty?.totals.totalCost).toBe(0);
  });

  it('per service and hour: short pods prorated, the finished Job charged only while it ran, a restart counted once', async () => {
    const body = await getJson<TeamBody>(`/cost/teams/shape-a?${DAY_QUERY}`);
    const hand = hourly((c) => `${c.namespace}/${c.service}`, 'shape-a');
    expect(body.byService.map((s) => `${s.namespace}/${s.service}`)).toEqual([...hand.keys()].sort());
    for (const s of body.byService) {
      const buckets = hand.get(`${s.namespace}/${s.service}`) ?? [];
      s.series.forEach((b, i) => closeLine(b, buckets[i] as HandQuantities, `${s.namespace}/${s.service} hour ${i}`));
    }
    const service = (name: string) => body.byService.find((s) => s.service === name);
    // The figures in plain numbers: 20 minutes of 2 cores; 10 + 20 minutes of 1 core across 04:00.
    const ci = service('ci')?.series ?? [];
    expectClose(ci[2]?.['cpuRequestedCoreHours'] ?? -1, 2 * (20 / 60), 'ci hour 2');
    expectClose(ci[3]?.['cpuRequestedCoreHours'] ?? -1, 10 / 60, 'ci hour 3');
    expectClose(ci[4]?.['cpuRequestedCoreHours'] ?? -1, 20 / 60, 'ci hour 4');
    // The Job: 40 minutes at 05:00, nothing for the 18 hours it stays listed as Succeeded.
    const job = service('report-job');
    expectClose(job?.totals['cpuRequestedCoreHours'] ?? -1, 40 / 60, 'job total');
    expect((job?.series ?? []).slice(6).every((b) => b['totalCost'] === 0)).toBe(true);
    // The restart at 07:25: working set once (0.8 GiB for the hour), CPU across the counter reset.
    const api = service('api')?.series[7];
    expectClose(api?.['memoryUsedGiBHours'] ?? -1, 0.8, 'api memory in the restart hour');
    expectClose(api?.['cpuUsedCoreHours'] ?? -1, 0.3, 'api cpu in the restart hour');
  });

  it('a namespace moving team mid-hour: the new team from that hour on, never both, never an error', async () => {
    const a = await getJson<TeamBody>(`/cost/teams/shape-a?${DAY_QUERY}`);
    const b = await getJson<TeamBody>(`/cost/teams/shape-b?${DAY_QUERY}`);
    const webA = a.byService.find((s) => s.namespace === 'shape-web')?.series ?? [];
    const webB = b.byService.find((s) => s.namespace === 'shape-web')?.series ?? [];
    // Hours 0-9 to shape-a; hour 10 (the move at 10:30) and later to shape-b.
    for (let i = 0; i < 24; i++) {
      const inA = webA[i]?.['cpuRequestedCoreHours'] ?? 0;
      const inB = webB[i]?.['cpuRequestedCoreHours'] ?? 0;
      expectClose(inA + inB, 1, `web hour ${i} charged once`);
      expect(i < 10 ? inB : inA, `hour ${i}`).toBe(0);
    }
    const hand = hourly((c) => `${c.namespace}/${c.service}`, 'shape-b');
    for (const s of b.byService) {
      const buckets = hand.get(`${s.namespace}/${s.service}`) ?? [];
      s.series.forEach((x, i) => closeLine(x, buckets[i] as HandQuantities, `shape-b ${s.namespace}/${s.service} hour ${i}`));
    }
  });

  it('a pod whose service label changes: the new service from that hour on; every endpoint still answers', async () => {
    const b = await getJson<TeamBody>(`/cost/teams/shape-b?${DAY_QUERY}`);
    const old = b.byService.find((s) => s.service === 'old-name')?.series ?? [];
    const renamed = b.byService.find((s) => s.service === 'new-name')?.series ?? [];
    for (let i = 0; i < 24; i++) {
      expectClose((old[i]?.['cpuRequestedCoreHours'] ?? 0) + (renamed[i]?.['cpuRequestedCoreHours'] ?? 0), 0.25, `svc hour ${i} once`);
      expect(i < 12 ? (renamed[i]?.['cpuRequestedCoreHours'] ?? 0) : (old[i]?.['cpuRequestedCoreHours'] ?? 0), `hour ${i}`).toBe(0);
    }
    for (const path of ['/cost/teams?window=1d&step=1h', '/cost/idle?window=1d', '/cost/teams/shape-a/idle?window=1d', '/cost/teams/shape-empty?window=1d']) {
      await getJson(path);
    }
  });

  it('the finished Job is not reported idle (it was busy while it ran)', async () => {
    const body = await getJson<{ idle: Array<{ service: string }> }>('/cost/teams/shape-a/idle?window=1d');
    expect(body.idle.map((s) => s.service)).not.toContain('report-job');
  });

  it('a failing query: 502 (rejected) or 503 (unreachable) naming the metric and its PromQL', async () => {
    const real = createCostPrometheus({ url });
    // Prometheus rejects one metric's query (a syntax error appended to it).
    const cpuUsed = costRangeQuery('cpuUsed', { groupBy: ['team', 'environment', 'namespace', 'service'], team: 'shape-a' }, HOUR);
    const broken = appFor({ ...real, rangeQuery: (q, s, e, st) => real.rangeQuery(q === cpuUsed ? `${q})` : q, s, e, st) });
    const rejected = await broken.request(`/cost/teams/shape-a?${DAY_QUERY}`);
    expect(rejected.status).toBe(502);
    const body = (await rejected.json()) as { code: string; metric: string; query: string; message: string };
    expect(body).toMatchObject({ code: 'PrometheusQueryFailed', metric: 'cpuUsed' });
    expect(body.query).toContain('container_cpu_usage_seconds_total');
    expect(body.message).toMatch(/cpuUsed/);
    const down = appFor(createCostPrometheus({ url: 'http://127.0.0.1:1', timeoutMs: 2000 }));
    const unavailable = await down.request('/cost/teams?window=1d&step=1h');
    expect(unavailable.status).toBe(503);
    expect((await unavailable.json()) as Record<string, string>).toMatchObject({ code: 'PrometheusUnavailable' });
  });

});

/** The real Job: its pod's requests and the use kwok simulates for it. */
const JOB = { cpu: 0.5, memoryMi: 256, usedCpu: 0.5, usedMemoryMi: 200 } as const;
/** Held Pending at least this long before it may run (a Job waiting for its turn). */
const HOLD_SECONDS = 45;
/** The scheduling gate that holds the pod (removed by the test, as a queueing controller would). */
const GATE = 'paved.dev/test-hold';

type Obj = KubernetesObject & Record<string, any>;
const sleepUntil = async (epochSeconds: number) => {
  while (Date.now() / 1000 < epochSeconds) await new Promise((r) => setTimeout(r, Math.min(1000, epochSeconds * 1000 - Date.now() + 5)));
};

describe.skipIf(!sharedClusterHasExporters())('a real Job on the local cluster, read through kube-state-metrics', () => {
  const kube = KubeClients.fromKubeConfig(adminKubeConfig());
  const team = uniqueName('cost-job');
  let prom: LocalPrometheus;
  let namespace = '';
  let pod = '';
  let completedAt = 0;
  let hourEnd = 0;

  const costApp = (pricing: Pricing = DEFAULT_PRICING) => {
    const cost = createCostService({ prometheus: createCostPrometheus({ url: prom.url }), teams: staticTeamDirectory([{ name: team }]), pricing, now: () => new Date(hourEnd * 1000) });
    const app = new Hono<ApiEnv>();
    app.use('*', async (c, next) => {
      c.set('caller', finance);
      await next();
    });
    app.route('/', createCostRoutes({ cost }));
    return app;
  };
  const json = async <T>(app: Hono<ApiEnv>, path: string): Promise<T> => {
    const res = await app.request(path);
    expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
    return (await res.json()) as T;
  };
  /** The hand computation of both hours of the window (the run may cross an hour). */
  const handHours = async (): Promise<PodHour[]> => {
    const samples = await podSamples(prom.url, namespace, pod, Date.now() / 1000, 3 * HOUR);
    return [hourEnd - HOUR, hourEnd].map((end) => handPodHour(samples, end));
  };

  beforeAll(async () => {
    prom = await startPrometheus({ scrapeIntervalSeconds: 1 });
    await scrapeSharedCluster(prom);
    namespace = await createTestNamespace(team, { 'paved.dev/team': team, 'paved.dev/environment': 'prod' });
    await kube.request({
      method: 'POST',
      path: `/apis/batch/v1/namespaces/${namespace}/jobs`,
      body: {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'report', namespace },
        spec: {
          backoffLimit: 0,
          template: {
            metadata: {
              labels: { 'paved.dev/service': 'report' },
              annotations: { [USAGE_ANNOTATIONS.cpu]: `${JOB.usedCpu * 1000}m`, [USAGE_ANNOTATIONS.memory]: `${JOB.usedMemoryMi}Mi` },
            },
            spec: {
              restartPolicy: 'Never',
              schedulingGates: [{ name: GATE }],
              containers: [{ name: 'main', image: 'registry.example/report:1.0.0', resources: { requests: { cpu: `${JOB.cpu * 1000}m`, memory: `${JOB.memoryMi}Mi` } } }],
            },
          },
        },
      },
    });
    const created = Date.now() / 1000;
    pod = await eventually(async () => {
      const pods = await kube.list<Obj>('v1', 'Pod', { namespace, labelSelector: 'job-name=report' });
      expect(pods.items).toHaveLength(1);
      return pods.items[0]!.metadata!.name!;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    // Let it run shortly before a 5-minute step ends, so that it completes in that step and the next
    // step (the pod listed, finished) comes soon.
    let release = created + HOLD_SECONDS;
    const toBoundary = STEP - (release % STEP);
    if (toBoundary < 20) release += toBoundary + STEP - 40;
    else if (toBoundary > 40) release += toBoundary - 40;
    await sleepUntil(release);
    await kube.request({ method: 'PATCH', path: `/api/v1/namespaces/${namespace}/pods/${pod}`, contentType: 'application/json-patch+json', body: [{ op: 'remove', path: '/spec/schedulingGates' }] });
    await eventually(async () => {
      const job = await kube.get<Obj>({ apiVersion: 'batch/v1', kind: 'Job', namespace, name: 'report' });
      expect(job?.status?.succeeded).toBe(1);
      expect((await kube.get<Obj>({ apiVersion: 'v1', kind: 'Pod', namespace, name: pod }))?.status?.phase).toBe('Succeeded');
    }, { timeoutMs: 60_000, intervalMs: 500 });
    completedAt = Date.now() / 1000;
    // The finished pod stays listed (by design of kube-state-metrics): wait into the next step, plus
    // a margin of scrapes, so that a whole step holds it finished but listed.
    await sleepUntil(Math.ceil(completedAt / STEP) * STEP + 20);
    // Paved's queries and the hand computation then read the same samples (kwok's counters keep growing).
    await stopScrapingSharedCluster(prom);
    hourEnd = Math.ceil(Date.now() / 1000 / HOUR) * HOUR;
  }, 600_000);

  afterAll(async () => {
    await kube.delete({ apiVersion: 'batch/v1', kind: 'Job', namespace, name: 'report' }).catch(() => false);
  });

  it('charges the pod only for the steps it was Pending or Running, not while it is listed as Succeeded', async () => {
    // What kube-state-metrics exported: the finished pod is still listed (phase Succeeded) after it ran.
    const at = Date.now() / 1000;
    const timesAt1 = async (phase: string) =>
      (await rawSamples(prom.url, `kube_pod_status_phase{namespace="${namespace}",pod="${pod}",phase=~"${phase}"}`, at, 3 * HOUR))
        .flatMap((s) => s.values.filter(([, v]) => Number(v) === 1).map(([t]) => t));
    const ran = await timesAt1('Pending|Running');
    const finished = (await timesAt1('Succeeded')).filter((t) => t > Math.max(...ran));
    process.stderr.write(`[figure] real Job: ${ran.length} samples Pending|Running, then ${finished.length} samples Succeeded (still listed)\n`);
    expect(ran.length).toBeGreaterThan(HOLD_SECONDS / 2);
    expect(finished.length).toBeGreaterThan(10);
    const hand = await handHours();
    const charged = hand.flatMap((h) => h.chargedSteps);
    const listed = hand.flatMap((h) => h.listedSteps);
    expect(charged.length).toBeGreaterThan(0);
    // At least one whole step in which the pod was listed but had finished.
    expect(listed.filter((t) => !charged.includes(t)).length).toBeGreaterThan(0);
    process.stderr.write(`[figure] real Job: ${charged.length} steps charged, ${listed.length} steps listed; hand ${JSON.stringify(hand.map((h) => h.quantities))}\n`);

    const body = await json<TeamBody>(costApp(), `/cost/teams/${team}?window=2h&step=1h`);
    expect(body.byService.map((s) => `${s.namespace}/${s.service}`)).toEqual([`${namespace}/report`]);
    const series = body.byService[0]!.series;
    expect(series).toHaveLength(2);
    hand.forEach((h, i) => closeLine(series[i]!, h.quantities, `hour ${i}`));
    closeLine(body.totals, sumHand(hand.map((h) => h.quantities)), 'total');
    // In plain numbers: the request times the charged steps, less than the listed steps would give.
    expectClose(body.totals['cpuRequestedCoreHours']!, (JOB.cpu * charged.length * STEP) / HOUR, 'cpu requested = request x charged steps');
    expect(body.totals['cpuRequestedCoreHours']!).toBeLessThan(hand.reduce((a, h) => a + h.cpuRequestedIfListed, 0) * 0.999);
    expect(body.totals['memoryRequestedGiBHours']!).toBeLessThan(hand.reduce((a, h) => a + h.memoryRequestedIfListed, 0) * 0.999);
  });

  it('is not reported idle because of the time it stayed listed after it finished', async () => {
    const hand = await handHours();
    const used = hand.reduce((a, h) => a + h.quantities.cpuUsed, 0);
    const whileRun = used / hand.reduce((a, h) => a + h.quantities.cpuRequested, 0);
    const whileListed = used / hand.reduce((a, h) => a + h.cpuRequestedIfListed, 0);
    const idleWith = async (pricing: Pricing) =>
      (await json<{ idle: Array<{ service: string }> }>(costApp(pricing), `/cost/teams/${team}/idle?window=2h`)).idle.map((s) => s.service);
    // The default threshold: the verdict follows the time it ran.
    expect(await idleWith(DEFAULT_PRICING), `utilisation ${whileRun} while it ran`).toEqual(whileRun < DEFAULT_PRICING.idle.cpuUtilisationBelow ? ['report'] : []);
    // A threshold between the utilisation of the time it ran and that of the time it was listed: idle
    // only if the finished time were charged.
    expect(whileListed).toBeLessThan(whileRun);
    process.stderr.write(`[figure] real Job: CPU utilisation ${whileRun} over the time it ran, ${whileListed} had the listed time been charged\n`);
    const between = (whileRun + whileListed) / 2;
    expect(await idleWith(parsePricing({ idle: { cpuUtilisationBelow: Math.min(1, between) } })), `utilisation ${whileRun} ran, ${whileListed} listed`).toEqual([]);
    expect(completedAt).toBeGreaterThan(0);
  });
});
