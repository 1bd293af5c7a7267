/**
 * The rightsizing engine against the real API server and a real Prometheus: usage history backfilled
 * with promtool in the shapes cAdvisor and kube-state-metrics export (test/support/rightsizing-history.ts),
 * live series from the shared cluster's kube-state-metrics for the OOM kill, real WebServices rendered by
 * the WebService controller (with delivery for the apply), one namespace per test. Expected figures are
 * computed by hand from the shapes.
 */
import type { KubernetesObject, V1Deployment, V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCostPrometheus, type CostPrometheus } from '../../src/cost/prometheus.js';
import { EventRecorder, KubeClients, createInformerFactory } from '../../src/kube/index.js';
import type { RecommendationObject } from '../../src/rightsizing/applied.js';
import { RightsizingEngine } from '../../src/rightsizing/engine.js';
import { rightsizingMetrics } from '../../src/rightsizing/metrics.js';
import { DEFAULT_SETTINGS, type RightsizingSettings } from '../../src/rightsizing/types.js';
import { adminKubeConfig } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { scrapeSharedCluster, sharedClusterHasExporters, startPrometheus, type LocalPrometheus } from '../support/prometheus.js';
import { handQuantile, rightsizingHistory, type ServiceHistory } from '../support/rightsizing-history.js';
import { startTrafficEmitter } from '../support/traffic-emitter.js';
import { applyWebService, createTeamNamespace, startController, type RunningController } from '../webservice/harness.js';
import { ERROR_RATE_QUERY, Kubectl, P99_QUERY, SLOW, analysisTemplate, errorGate, gatedSteps, prometheusProvider, scraped, startStack, watchWeights, type Stack } from '../delivery/stack.js';

const MIB = 2 ** 20;
const GIB = 2 ** 30;
const HOUR = 3600;
const admin = KubeClients.fromKubeConfig(adminKubeConfig());
const logger = pino({ level: 'silent' });
const wave = (h: number): number => Math.sin((2 * Math.PI * (h % 24)) / 24);
/** Every day and hour is inside this window. */
const ALWAYS = { days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00', timezone: 'UTC' };
const settings: RightsizingSettings = { ...DEFAULT_SETTINGS, watch: { ...DEFAULT_SETTINGS.watch, windowSeconds: 60 } };

const END = Math.floor(Date.now() / 60_000) * 60 - 60;
const lastMidnight = END - (END % 86_400);

// The namespaces of the tests, created before Prometheus starts (the history names them).
const ns: Record<string, string> = {};
const NAMES = ['over', 'short', 'hpa', 'ten', 'apply', 'window', 'overlap', 'down', 'oom', 'modes', 'failed'] as const;

function service(namespace: string, over: Partial<ServiceHistory> = {}): ServiceHistory {
  return {
    namespace,
    service: 'shop',
    cpu: (h) => 0.25 + 0.05 * wave(h),
    memory: (h) => 0.25 * GIB + 0.02 * GIB * wave(h),
    cpuRequest: 1,
    memoryRequest: GIB,
    memoryLimit: GIB,
    days: 15,
    extras: false,
    ...over,
  };
}

let prom: LocalPrometheus;
let client: CostPrometheus;
const stops: Array<() => Promise<void>> = [];

beforeAll(async () => {
  // Team namespaces with the paved-deployer the WebService controller writes as (tenancy's bootstrap).
  for (const n of NAMES) ns[n] = await createTeamNamespace(`rs-${n}`, `team-rs`);
  // Usage that rose 10 days ago (at a UTC midnight): the last 10 days stable, not 14.
  const tenStart = END - 20 * 24 * HOUR; // the 'ten' service's history is 20 days
  const rise = lastMidnight - 10 * 86_400;
  const history = [
    service(ns['over']!, { days: 20, extras: true }),
    service(ns['short']!, { days: 5 }),
    service(ns['hpa']!),
    service(ns['ten']!, { days: 20, cpu: (h) => (tenStart + h * HOUR >= rise ? 0.25 : 0.08), memory: (h) => (tenStart + h * HOUR >= rise ? 0.3 * GIB : 0.1 * GIB) }),
    service(ns['apply']!, { replicas: 2, cpu: () => 0.2, memory: () => 0.2 * GIB }),
    service(ns['modes']!, { replicas: 2, cpu: () => 0.2, memory: () => 0.2 * GIB }),
    service(ns['failed']!, { replicas: 2, cpu: () => 0.2, memory: () => 0.2 * GIB }),
    service(ns['window']!, { cpu: () => 0.2, memory: () => 0.2 * GIB }),
    service(ns['overlap']!),
    service(ns['oom']!, { cpu: () => 0.05, memory: () => 100 * MIB, cpuRequest: 0.1, memoryRequest: 128 * MIB, memoryLimit: 256 * MIB }),
  ];
  prom = await startPrometheus({ backfillOpenMetrics: rightsizingHistory(history, { endSeconds: END, resolutionSeconds: 150 }) });
  client = createCostPrometheus({ url: prom.url, timeoutMs: 30_000 });
}, 600_000);

afterAll(async () => {
  for (const s of stops.reverse()) await s().catch(() => undefined);
});

/** An engine scoped to one namespace, with caches of its own (as main.ts wires one for the cluster). */
async function engineFor(namespace: string, prometheus: CostPrometheus = client): Promise<RightsizingEngine> {
  const informers = createInformerFactory({ clients: admin, logger });
  const engine = new RightsizingEngine({
    clients: admin,
    informers,
    prometheus,
    events: new EventRecorder(admin, { logger }),
    metrics: rightsizingMetrics(new Registry()),
    logger,
    settings,
    namespace,
    watchTemplates: { latency: P99_QUERY, errorRate: ERROR_RATE_QUERY },
  });
  await Promise.all(engine.informers().map((i) => i.start()));
  await Promise.all(engine.informers().map((i) => i.waitForSync(60_000)));
  stops.push(async () => void (await Promise.all(engine.informers().map((i) => i.stop()))));
  return engine;
}

async function controllerFor(namespace: string): Promise<RunningController> {
  const c = await startController(namespace);
  stops.push(() => c.stop());
  return c;
}

/** A WebService `shop` with 1 CPU / 1 GiB requested and no HPA (fixed replicas) unless `spec` says otherwise. */
async function shop(namespace: string, spec: Record<string, unknown> = {}): Promise<void> {
  await applyWebService({
    apiVersion: 'paved.dev/v1alpha1',
    kind: 'WebService',
    metadata: { name: 'shop', namespace },
    spec: { image: 'ghcr.io/acme/shop:1.0.0', runtime: 'go', scaling: { minReplicas: 1, maxReplicas: 1 }, overrides: { resources: { requests: { cpu: '1', memory: '1Gi' } } }, ...spec },
  } as never);
}

async function recommendation(namespace: string): Promise<RecommendationObject | undefined> {
  return admin.get<RecommendationObject>({ apiVersion: 'paved.dev/v1alpha1', kind: 'Recommendation', namespace, name: 'shop' });
}

/** Runs the engine until the Recommendation satisfies `check` (the caches see the Deployment a little after the controller makes it). */
async function runUntil(engine: RightsizingEngine, namespace: string, check: (r: RecommendationObject) => void, opts = SLOW): Promise<RecommendationObject> {
  let last: RecommendationObject | undefined;
  await eventually(async () => {
    await engine.run();
    last = await recommendation(namespace);
    expect(last).toBeDefined();
    check(last!);
  }, opts);
  return last!;
}

const q = (s: string | undefined): number => {
  if (!s) return NaN;
  const m = /^([0-9.]+)(m|Mi|Gi|Ki)?$/.exec(s);
  const f = { m: 0.001, Ki: 1024, Mi: MIB, Gi: GIB } as Record<string, number>;
  return Number(m?.[1]) * (m?.[2] ? f[m[2]]! : 1);
};

describe('rightsizing engine (real API server, real Prometheus)', () => {
  it('a service 4x over-provisioned for 20 days gets the recommendation computed by hand (within 2%)', async () => {
    const n = ns['over']!;
    await controllerFor(n);
    await shop(n, { rightsizing: { mode: 'recommend' } });
    const engine = await engineFor(n);
    const rec = await runUntil(engine, n, (r) => expect(r.status?.state).toBe('Recommended'));
    // By hand: the hourly shapes over the 14-day window, each hour 12 five-minute points.
    const hours = Array.from({ length: 14 * 24 }, (_, i) => 20 * 24 - 14 * 24 + i);
    const cpu = handQuantile(0.95, hours.flatMap((h) => Array<number>(12).fill(0.25 + 0.05 * wave(h)))) * 1.15;
    const memory = Math.max(...hours.map((h) => 0.25 * GIB + 0.02 * GIB * wave(h))) * 1.15;
    const c = rec.status?.containers?.[0];
    expect(c?.current).toEqual({ cpu: '1', memory: '1Gi' });
    expect(q(c?.recommended?.cpu)).toBeGreaterThan(cpu * 0.98);
    expect(q(c?.recommended?.cpu)).toBeLessThan(cpu * 1.02);
    expect(q(c?.recommended?.memory)).toBeGreaterThan(memory * 0.98);
    expect(q(c?.recommended?.memory)).toBeLessThan(memory * 1.02);
    expect(c?.daily?.length).toBeGreaterThanOrEqual(19);
    expect(c?.daily?.length).toBeLessThanOrEqual(30);
    expect(rec.status?.projectedMonthlySavings).toBeGreaterThan(0);
    expect(rec.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'WebService', name: 'shop' });
    expect(rec.spec.applied).toBeUndefined(); // recommend mode changes nothing
  });

  it('too little history yields the "insufficient data" status', async () => {
    const n = ns['short']!;
    await controllerFor(n);
    await shop(n, { rightsizing: { mode: 'auto' } });
    const rec = await runUntil(await engineFor(n), n, (r) => expect(r.status?.state).toBe('Collecting'));
    expect(rec.status?.reason).toBe('InsufficientData');
    expect(rec.status?.message).toMatch(/insufficient data: [4-6] of 14 days/);
    expect(rec.status?.daysNeeded).toBe(14);
  });

  it('an HPA on CPU yields memory only, and says so', async () => {
    const n = ns['hpa']!;
    await controllerFor(n);
    await shop(n, { rightsizing: { mode: 'recommend' }, scaling: { minReplicas: 1, maxReplicas: 3 } });
    const rec = await runUntil(await engineFor(n), n, (r) => expect(r.status?.state).toBe('Recommended'));
    const c = rec.status?.containers?.[0];
    expect(c?.recommended?.cpu).toBeUndefined();
    expect(c?.recommended?.memory).toBeDefined();
    expect(c?.notes?.join()).toContain('memory only');
  });

  it('a recommendation stable for 10 days is not applied', async () => {
    const n = ns['ten']!;
    await controllerFor(n);
    await shop(n, { rightsizing: { mode: 'auto', applyWindow: ALWAYS } });
    const rec = await runUntil(await engineFor(n), n, (r) => expect(r.status?.state).toBe('Recommended'));
    expect(rec.status?.reason).toBe('NotStable');
    expect(rec.status?.stableDays).toBe(10);
    expect(rec.spec.applied).toBeUndefined();
  });

  it('outside the apply window nothing is applied', async () => {
    const n = ns['window']!;
    await controllerFor(n);
    const hour = new Date().getUTCHours();
    const closed = { days: [1, 2, 3, 4, 5, 6, 7], start: `${String((hour + 2) % 24).padStart(2, '0')}:00`, end: `${String((hour + 2) % 24).padStart(2, '0')}:30`, timezone: 'UTC' };
    await shop(n, { rightsizing: { mode: 'auto', applyWindow: closed } });
    const engine = await engineFor(n);
    const rec = await runUntil(engine, n, (r) => expect(r.status?.state).toBe('Stable'));
    expect(rec.status?.reason).toBe('OutsideApplyWindow');
    expect(rec.spec.applied).toBeUndefined();
    const d = await admin.get<V1Deployment & KubernetesObject>({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: n, name: 'shop' });
    expect(d?.spec?.template?.spec?.containers[0]?.resources?.requests).toEqual({ cpu: '1', memory: '1Gi' });
    // Mode deleted again (the platform's default is off): the engine deletes the Recommendation.
    await shop(n);
    await eventually(async () => {
      await engine.run();
      expect(await recommendation(n)).toBeUndefined();
    }, SLOW);
  });

  it('an overlapping run does not start', async () => {
    const n = ns['overlap']!;
    await controllerFor(n);
    await shop(n, { rightsizing: { mode: 'recommend' } });
    const engine = await engineFor(n);
    await runUntil(engine, n, (r) => expect(r.status?.state).toBe('Recommended'));
    const [first, second] = await Promise.all([engine.run(), engine.run()]);
    expect(first.outcome).toBe('completed');
    expect(second.outcome).toBe('skipped');
  });

  it('Prometheus stopped mid-run changes nothing', async () => {
    const n = ns['down']!;
    await controllerFor(n);
    await shop(n, { rightsizing: { mode: 'recommend' } });
    // A Prometheus of its own (stopped below), with this namespace's history.
    const own = await startPrometheus({ backfillOpenMetrics: rightsizingHistory([service(n)], { endSeconds: END, resolutionSeconds: 150 }) });
    const inner = createCostPrometheus({ url: own.url, timeoutMs: 5_000 });
    let stopAfter = Number.POSITIVE_INFINITY;
    let sent = 0;
    // After the first two queries of a run answer, Prometheus stops: the rest of the run fails.
    const flaky: CostPrometheus = {
      instantQuery: async (query, t) => {
        if (++sent > stopAfter) await own.stop();
        return inner.instantQuery(query, t);
      },
      rangeQuery: async (query, s, e, st) => {
        if (++sent > stopAfter) await own.stop();
        return inner.rangeQuery(query, s, e, st);
      },
    };
    const engine = await engineFor(n, flaky);
    const before = await runUntil(engine, n, (r) => expect(r.status?.state).toBe('Recommended'));
    // The usage moves (a new request makes the recommendation differ) but Prometheus goes away mid-run.
    await shop(n, { rightsizing: { mode: 'recommend' }, overrides: { resources: { requests: { cpu: '2', memory: '2Gi' } } } });
    const deployments = engine.informers().find((i) => i.kind === 'Deployment');
    await eventually(async () => {
      const d: V1Deployment | undefined = deployments?.getByName('shop', n);
      expect(d?.spec?.template?.spec?.containers[0]?.resources?.requests?.['cpu']).toBe('2');
    }, SLOW);
    sent = 0;
    stopAfter = 2;
    const report = await engine.run();
    expect(report.outcome).toBe('prometheus-unavailable');
    expect(report.message).toContain('nothing changed');
    const after = await recommendation(n);
    expect(after?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });

  it('an OOM kill (a pod status the cluster reports) raises the memory recommendation', async (ctx) => {
    if (!sharedClusterHasExporters()) return ctx.skip();
    const n = ns['oom']!;
    await scrapeSharedCluster(prom);
    await controllerFor(n);
    // small tier: 256Mi memory limit; usage 100Mi -> 115Mi recommended before any OOM kill.
    await shop(n, { rightsizing: { mode: 'recommend' }, tier: 'small', overrides: {} });
    const engine = await engineFor(n);
    const before = await runUntil(engine, n, (r) => expect(r.status?.containers?.[0]?.recommended?.memory).toBe('115Mi'));
    expect(before.status?.containers?.[0]?.notes ?? []).toEqual([]);
    // The kubelet's report of an OOM kill: the container's last state, through the pods/status subresource.
    let pod: V1Pod | undefined;
    await eventually(async () => {
      const pods = await admin.list<V1Pod & KubernetesObject>('v1', 'Pod', { namespace: n, labelSelector: 'paved.dev/service=shop' });
      pod = pods.items.find((p) => p.status?.phase === 'Running');
      expect(pod).toBeDefined();
    }, SLOW);
    const statuses = (pod!.status?.containerStatuses ?? []).map((s) => ({
      ...s,
      restartCount: (s.restartCount ?? 0) + 1,
      lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: new Date(Date.now() - 60_000).toISOString(), finishedAt: new Date().toISOString() } },
    }));
    await admin.request({
      method: 'PATCH',
      path: `/api/v1/namespaces/${n}/pods/${pod!.metadata?.name}/status`,
      body: { status: { containerStatuses: statuses } },
      contentType: 'application/strategic-merge-patch+json',
    });
    const after = await runUntil(engine, n, (r) => expect(q(r.status?.containers?.[0]?.recommended?.memory)).toBeGreaterThanOrEqual(1.25 * 256 * MIB));
    expect(after.status?.containers?.[0]?.notes?.join()).toContain('OOM-killed at a 256Mi limit');
  });
});

/** Traffic scraped by `prom`, an error-rate gate, the WebService and delivery controllers, the route's weights observed. */
async function canaryStack(n: string) {
  const emitter = await startTrafficEmitter({ namespace: n, service: 'shop', requestsPerSecond: 50 });
  stops.push(() => emitter.stop());
  await prom.addTarget(`emitter-${n}`, emitter.hostPort);
  await scraped(prom.url, n, 'canary');
  const k = new Kubectl(n);
  await k.create(analysisTemplate('gate', errorGate));
  const stack = await startStack(n, prometheusProvider(prom.url));
  const route = await watchWeights(n, 'shop');
  stops.push(() => route.stop());
  return { emitter, k, stack, route };
}

/** The WebService `shop` in auto mode (1 CPU / 1 GiB, two replicas, the gated canary steps), first rolled out. */
async function autoShop(n: string, k: Kubectl): Promise<void> {
  await k.create({
    apiVersion: 'paved.dev/v1alpha1',
    kind: 'WebService',
    metadata: { name: 'shop' },
    spec: {
      image: 'ghcr.io/acme/shop:1.0.0',
      runtime: 'go',
      networking: { visibility: 'public', host: `shop-${n}.example.com` },
      scaling: { minReplicas: 2, maxReplicas: 2 },
      overrides: { resources: { requests: { cpu: '1', memory: '1Gi' } } },
      delivery: { steps: gatedSteps(), progressDeadlineSeconds: 60, scaleDownDelaySeconds: 0 },
      rightsizing: { mode: 'auto', applyWindow: ALWAYS },
    },
  } as KubernetesObject);
  await eventually(async () => expect((await k.rollout('shop')).phase).toBe('Healthy'), SLOW);
}

describe('apply through the canary, watch, roll back', () => {
  let stack: Stack | undefined;
  it('stable for 14 days: applied through a canary whose route weights are observed; a controller restart mid-apply resumes; a latency regression restores the old requests and holds back', async () => {
    const n = ns['apply']!;
    const { emitter, k, route, stack: started } = await canaryStack(n);
    stack = started;
    await autoShop(n, k);
    const first = await engineFor(n);
    const applying = await runUntil(first, n, (r) => expect(r.status?.state).toBe('Applying'));
    expect(applying.spec.applied?.containers).toEqual([{ name: 'app', cpu: '230m', memory: '236Mi' }]);
    // The WebService itself is never edited.
    expect((await k.webService('shop')).spec.overrides?.resources?.requests).toEqual({ cpu: '1', memory: '1Gi' });

    // The controller restarts mid-apply (its WebService and delivery controllers, and its engine with
    // caches of its own): the new one resumes from the cluster.
    await eventually(async () => expect((await k.rollout('shop')).phase).toBe('Progressing'), SLOW);
    await stack.stop();
    stack = await startStack(n, prometheusProvider(prom.url));
    stops.push(() => stack!.stop());
    const engine = await engineFor(n);

    await eventually(async () => {
      const d = await k.deployment('shop');
      expect(d?.spec?.template?.spec?.containers[0]?.resources?.requests).toEqual({ cpu: '230m', memory: '236Mi' });
      expect((await k.rollout('shop')).phase).toBe('Healthy');
    }, { timeoutMs: 240_000, intervalMs: 1000 });
    expect(route.weights).toEqual(expect.arrayContaining([10, 50]));
    await runUntil(engine, n, (r) => expect(r.status?.state).toBe('Watching'));

    // Latency triples on the service after the change: restored, held back, an Event.
    emitter.setLatency('stable', 2);
    emitter.setLatency('canary', 2);
    const rolled = await runUntil(engine, n, (r) => expect(r.status?.state).toBe('RolledBack'), { timeoutMs: 120_000, intervalMs: 2_000 });
    expect(rolled.status?.lastRollback?.reason).toBe('LatencyRegression');
    expect(rolled.spec.applied).toBeUndefined();
    expect(rolled.status?.holdUntil).toBeDefined();
    await eventually(async () => {
      const d = await k.deployment('shop');
      expect(d?.spec?.template?.spec?.containers[0]?.resources?.requests).toEqual({ cpu: '1', memory: '1Gi' });
    }, { timeoutMs: 240_000, intervalMs: 1000 });
    expect((await k.events()).map((e) => e.reason)).toContain('RightsizingRolledBack');
    const held = await runUntil(engine, n, (r) => expect(r.status?.state).toBe('HeldBack'));
    expect(held.spec.applied).toBeUndefined();
  }, 600_000);
});

describe('leaving auto: back to the developer\'s own requests through the canary', () => {
  it('auto -> recommend keeps the Recommendation and stops applying; auto -> off deletes it; each change rolls out through a canary whose route weights are observed; nothing else of the spec is lost', async () => {
    const n = ns['modes']!;
    const { k, route, stack } = await canaryStack(n);
    stops.push(() => stack.stop());
    const spec = {
      image: 'ghcr.io/acme/shop:1.0.0',
      runtime: 'go',
      networking: { visibility: 'public', host: `shop-${n}.example.com` },
      scaling: { minReplicas: 2, maxReplicas: 2 },
      overrides: { env: [{ name: 'GREETING', value: 'hello' }], resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { memory: '2Gi' } } },
      delivery: { steps: gatedSteps(), progressDeadlineSeconds: 60, scaleDownDelaySeconds: 0 },
      rightsizing: { mode: 'auto', applyWindow: ALWAYS },
    };
    await k.create({ apiVersion: 'paved.dev/v1alpha1', kind: 'WebService', metadata: { name: 'shop' }, spec } as KubernetesObject);
    await eventually(async () => expect((await k.rollout('shop')).phase).toBe('Healthy'), SLOW);
    const created = (await k.webService('shop')).spec as typeof spec;
    expect(created).toMatchObject(spec);
    /** The developer's own app container, as first rendered (requests, limits, env, probes, image). */
    const own = (await k.deployment('shop'))?.spec?.template?.spec?.containers[0];
    expect(own?.resources?.requests).toEqual({ cpu: '1', memory: '1Gi' });
    const engine = await engineFor(n);
    const requestsAre = async (requests: Record<string, string>): Promise<void> =>
      eventually(async () => {
        const d = await k.deployment('shop');
        expect(d?.spec?.template?.spec?.containers[0]?.resources?.requests).toEqual(requests);
        expect((await k.rollout('shop')).phase).toBe('Healthy');
      }, { timeoutMs: 240_000, intervalMs: 1000 });
    /** Applied by the engine through a canary (10 then 50), promoted. */
    const applyThroughCanary = async (): Promise<void> => {
      route.weights.length = 0;
      const applying = await runUntil(engine, n, (r) => expect(r.status?.state).toBe('Applying'));
      expect(applying.spec.applied?.containers).toEqual([{ name: 'app', cpu: '230m', memory: '236Mi' }]);
      await requestsAre({ cpu: '230m', memory: '236Mi' });
      expect(route.weights).toEqual(expect.arrayContaining([10, 50]));
      await runUntil(engine, n, (r) => expect(r.status?.state).toBe('Watching'));
    };
    /** The WebService is exactly what the developer wrote, with `mode`. */
    const specIntact = async (mode: string): Promise<void> => {
      const ws = await k.webService('shop');
      expect(ws.spec).toEqual({ ...created, rightsizing: { ...created.rightsizing, mode } });
    };

    await applyThroughCanary();

    // auto -> recommend: the spec's requests roll out through a canary at once; the Recommendation stays,
    // still recommending, with nothing applied.
    route.weights.length = 0;
    await k.patchWebService('shop', { spec: { rightsizing: { mode: 'recommend' } } });
    await requestsAre({ cpu: '1', memory: '1Gi' });
    expect(route.weights).toEqual(expect.arrayContaining([10, 50]));
    const kept = await runUntil(engine, n, (r) => expect(r.status?.state).toBe('Recommended'));
    expect(kept.status?.reason).toBe('RecommendOnly');
    expect(kept.spec.mode).toBe('recommend');
    expect(kept.spec.applied).toBeUndefined();
    expect(kept.status?.containers?.[0]?.recommended).toEqual({ cpu: '230m', memory: '236Mi' });
    expect((await k.events()).map((e) => e.reason)).toContain('RightsizingNotApplied');
    // Further runs in recommend apply nothing.
    await engine.run();
    expect((await recommendation(n))?.spec.applied).toBeUndefined();
    expect((await k.deployment('shop'))?.spec?.template?.spec?.containers[0]).toEqual(own);
    await specIntact('recommend');

    // Back to auto: applied again, from the rule (stable, different, window open), through a canary.
    await k.patchWebService('shop', { spec: { rightsizing: { mode: 'auto' } } });
    await applyThroughCanary();

    // auto -> off: the spec's requests through a canary, the Recommendation deleted.
    route.weights.length = 0;
    await k.patchWebService('shop', { spec: { rightsizing: { mode: 'off' } } });
    await requestsAre({ cpu: '1', memory: '1Gi' });
    expect(route.weights).toEqual(expect.arrayContaining([10, 50]));
    await eventually(async () => {
      await engine.run();
      expect(await recommendation(n)).toBeUndefined();
    }, SLOW);
    expect((await k.deployment('shop'))?.spec?.template?.spec?.containers[0]).toEqual(own);
    await specIntact('off');
  }, 900_000);
});

describe('an applied recommendation whose canary fails its analysis', () => {
  it('is rolled back like any other rollout: the stable pods keep the previous requests, the Recommendation records the failed apply and holds back, nothing is retried', async () => {
    const n = ns['failed']!;
    const { emitter, k, route, stack } = await canaryStack(n);
    stops.push(() => stack.stop());
    await autoShop(n, k);
    /** The requests of the stable track's pods as the cluster runs them (the canary's are not among them). */
    const stablePodRequests = async () => {
      const pods = await admin.list<V1Pod & KubernetesObject>('v1', 'Pod', { namespace: n, labelSelector: 'paved.dev/service=shop,paved.dev/track=stable' });
      return pods.items.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.spec?.containers[0]?.resources?.requests);
    };
    const previous = { cpu: '1', memory: '1Gi' };
    await eventually(async () => expect(await stablePodRequests()).toEqual([previous, previous]), SLOW);

    // Half the canary's requests fail: the error-rate gate at the first step fails.
    emitter.setErrorRate('canary', 0.5);
    route.weights.length = 0;
    const engine = await engineFor(n);
    const applying = await runUntil(engine, n, (r) => expect(r.status?.state).toBe('Applying'));
    expect(applying.spec.applied?.containers).toEqual([{ name: 'app', cpu: '230m', memory: '236Mi' }]);
    await eventually(async () => {
      const r = await k.rollout('shop');
      expect(r.phase).toBe('RolledBack');
      expect(r.failure?.reason).toBe('AnalysisFailed');
    }, { timeoutMs: 240_000, intervalMs: 1000 });
    // The canary had traffic (10%) and never got further; the stable track never ran the new requests.
    expect(route.weights).toContain(10);
    expect(route.weights).not.toContain(50);
    expect(await stablePodRequests()).toEqual([previous, previous]);

    // The engine's next run records the failed apply and restores the spec's own requests.
    const rolled = await runUntil(engine, n, (r) => expect(r.status?.state).toBe('RolledBack'));
    expect(rolled.status?.reason).toBe('AnalysisFailed');
    expect(rolled.status?.lastRollback?.reason).toBe('AnalysisFailed');
    expect(rolled.status?.message).toContain('failed its analysis');
    expect(rolled.status?.holdUntil).toBeDefined();
    expect(rolled.spec.applied).toBeUndefined();
    expect((await k.events()).map((e) => e.reason)).toContain('RightsizingRolledBack');
    await eventually(async () => {
      expect((await k.rollout('shop')).phase).toBe('Healthy');
      expect((await k.deployment('shop'))?.spec?.template?.spec?.containers[0]?.resources?.requests).toEqual(previous);
    }, SLOW);

    // No loop: later runs hold back, apply nothing, and no second rollout starts.
    for (let i = 0; i < 3; i++) {
      await engine.run();
      const held = await recommendation(n);
      expect(held?.status?.state).toBe('HeldBack');
      expect(held?.spec.applied).toBeUndefined();
    }
    expect((await k.rollout('shop')).phase).toBe('Healthy');
    expect((await k.events()).filter((e) => e.reason === 'RolloutStarted')).toHaveLength(1);
    expect((await k.events()).filter((e) => e.reason === 'RightsizingApplying')).toHaveLength(1);
    expect(await stablePodRequests()).toEqual([previous, previous]);
  }, 600_000);
});
