/**
 * Delivery figures of issue 5 measured end to end on a REAL local cluster (kube-apiserver, etcd,
 * controller-manager, scheduler, kwok) with a REAL Prometheus (1 s scrape): the WebService controller
 * (delivery on) runs in this process, wired as main.ts wires it (test/delivery/stack.ts does the same in
 * the integration tests). bench/delivery.ts keeps the in-process figures (decision time, CPU per
 * evaluation, simulated Deployments).
 *
 *  1. fault -> traffic back on stable: a WebService at the 50% step with analysis (2 s interval, 5 s
 *     window, failureLimit 1); a 5xx spike (50%) is injected in the canary track of the emitter; the
 *     clock stops when a watch on the HTTPRoute sees weight 0 on the `<name>-canary` backendRef.
 *  2. N concurrent rollouts on one controller: N WebServices created and Available, then one image
 *     change starts a rollout on each (10 -> analysis -> 50 -> analysis -> 100, analysis against the real
 *     Prometheus reading each service's own series from one multi-service emitter): queries/s sent to
 *     Prometheus (the provider's onQuery), API writes per rollout step (the ApiCallCounter of the
 *     controllers' clients), resident memory, time until all are promoted.
 *
 *   nice -n 10 node --import tsx bench/delivery-cluster.ts [--runs 3] [--rollouts 100] [--workers 8|4,8] [--skip-fault] [--skip-many]
 */
import { pino } from 'pino';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { createPrometheusProvider } from '../src/analysis/prometheus-provider.js';
import type { RolloutState } from '../src/delivery/types.js';
import { installCrds } from '../src/install/crds.js';
import { KubeClients, createInformer, createInformerFactory, createManager } from '../src/kube/index.js';
import { startLocalCluster } from '../src/localcluster/cluster.js';
import { startPrometheus } from '../src/localcluster/prometheus.js';
import { createWebServiceController, detectCapabilities } from '../src/webservice/reconcile.js';
import { DEFAULT_PLATFORM } from '../src/webservice/render/index.js';
import { projectCrdFiles, thirdPartyCrdFiles } from '../test/support/crds.js';
import { startTrafficEmitter } from '../test/support/traffic-emitter.js';
import { benchArgs, numberList } from './args.js';
import { startMultiEmitter } from './delivery-emitter.js';

const flags = benchArgs({ runs: 3, rollouts: 100, workers: '8', 'skip-fault': false, 'skip-many': false });
const RUNS = flags.runs;
const ROLLOUTS = flags.rollouts;
/**
 * Workers of the WebService controller: main.ts's default (PAVED_WORKERS=8) unless given. A list
 * (`--workers 4,8`) rolls the same services out once per count, each on a fresh controller, in one run.
 */
const WORKER_COUNTS = numberList('workers', flags.workers);
let WORKERS = WORKER_COUNTS[0] ?? 8;
const out = (line: string) => process.stdout.write(`${line}\n`);
const progress = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const WS_API = 'paved.dev/v1alpha1';
const INTERVAL_S = 2;

const ERROR_RATE_QUERY =
  '(sum(rate(http_requests_total{namespace="{{namespace}}",service="{{service}}",track="{{track}}",code=~"5.."}[{{interval}}])) or vector(0)) / sum(rate(http_requests_total{namespace="{{namespace}}",service="{{service}}",track="{{track}}"}[{{interval}}]))';
const gateSteps = [{ setWeight: 10 }, { analysis: { templates: [{ templateName: 'gate' }] } }, { setWeight: 50 }, { analysis: { templates: [{ templateName: 'gate' }] } }, { setWeight: 100 }];

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs: number, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await Promise.resolve().then(fn).catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

const cluster = await startLocalCluster({ nodes: 4, onProgress: progress });
const prom = await startPrometheus({ scrapeIntervalSeconds: 1, onProgress: progress });
const stops: Array<() => Promise<void>> = [];
try {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  await installCrds(kc, [...(await thirdPartyCrdFiles()), ...projectCrdFiles()], 'paved-bench');
  const bench = KubeClients.fromKubeConfig(kc); // the bench's own reads and writes (kubectl), counted apart
  const logger = pino({ level: 'silent' });

  const create = async (ns: string, obj: KubernetesObject) => {
    const path = await bench.resourcePath({ apiVersion: obj.apiVersion!, kind: obj.kind!, namespace: ns });
    await bench.request({ method: 'POST', path, body: { ...obj, metadata: { ...obj.metadata, namespace: ns } } });
  };
  const patchWs = async (ns: string, name: string, patch: unknown) => {
    const path = await bench.resourcePath({ apiVersion: WS_API, kind: 'WebService', namespace: ns, name });
    await bench.request({ method: 'PATCH', path, body: patch, contentType: 'application/merge-patch+json' });
  };
  type WsObj = KubernetesObject & { status?: { rollout?: RolloutState; conditions?: Array<{ type: string; status: string }> } };
  const available = (w: WsObj) => w.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True') === true;
  const rolloutOf = async (ns: string, name: string) =>
    (await bench.get<WsObj>({ apiVersion: WS_API, kind: 'WebService', namespace: ns, name }))?.status?.rollout;
  const namespace = async (name: string) => {
    await bench.request({ method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });
  };
  const template = (count: number): KubernetesObject =>
    ({
      apiVersion: WS_API,
      kind: 'AnalysisTemplate',
      metadata: { name: 'gate' },
      spec: { metrics: [{ name: 'error-rate', query: ERROR_RATE_QUERY, max: 0.05, interval: `${INTERVAL_S}s`, window: '5s', count, failureLimit: 1, inconclusiveLimit: 1, consecutiveErrorLimit: 2 }] },
    }) as KubernetesObject;
  const webService = (name: string, image: string, minReplicas: number): KubernetesObject =>
    ({
      apiVersion: WS_API,
      kind: 'WebService',
      metadata: { name },
      spec: {
        image,
        networking: { visibility: 'public', host: `${name}.example.com` },
        scaling: { minReplicas, maxReplicas: minReplicas },
        delivery: { steps: gateSteps, progressDeadlineSeconds: 600, scaleDownDelaySeconds: 0 },
      },
    }) as KubernetesObject;

  /** The WebService controller (delivery on) on fresh clients (their own ApiCallCounter), scoped to one namespace, as main.ts wires it. */
  async function startControllers(ns: string, onQuery?: () => void) {
    const clients = KubeClients.fromKubeConfig(kc);
    const capabilities = await detectCapabilities(clients);
    if (!capabilities.gatewayApi) throw new Error('Gateway API not detected: the HTTPRoute weights would not exist');
    const provider = createPrometheusProvider({ url: prom.url, timeoutMs: 2000, ...(onQuery ? { onQuery } : {}) });
    const informers = createInformerFactory({ clients, logger });
    const web = await createWebServiceController({
      clients, platform: DEFAULT_PLATFORM, capabilities, logger, namespace: ns, informers, deployerFor: () => clients, delivery: { provider }, workers: WORKERS,
    });
    const manager = createManager({ logger, leaderElection: false });
    manager.addInformer(...informers.informers());
    manager.addController(web.controller);
    await manager.start();
    const stop = async () => {
      await manager.stop();
      web.dispose();
    };
    stops.push(stop);
    return { clients, web, stop };
  }

  // ---------------- 1. fault -> traffic back on stable ----------------
  if (!flags['skip-fault']) {
    const ns = 'bench-fault';
    await namespace(ns);
    const emitter = await startTrafficEmitter({ namespace: ns, service: 'shop', requestsPerSecond: 50 });
    stops.push(() => emitter.stop());
    await prom.addTarget('emitter-fault', emitter.hostPort);
    // count 6: the analysis at 50% lasts 12 s, long enough to inject the fault inside it
    await create(ns, template(6));
    const ctl = await startControllers(ns);
    // the route as the API server has it, by watch: time of every change of the canary weight
    const route = createInformer<KubernetesObject>({ clients: bench, apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', namespace: ns });
    let canaryWeight = -1;
    let zeroAt = 0;
    const seen = (obj: KubernetesObject) => {
      const refs = (obj as { spec?: { rules?: Array<{ backendRefs?: Array<{ name?: string; weight?: number }> }> } }).spec?.rules?.[0]?.backendRefs ?? [];
      const w = refs.find((r) => r.name === 'shop-canary')?.weight ?? 0;
      if (w === 0 && canaryWeight !== 0) zeroAt = Date.now();
      canaryWeight = w;
    };
    route.on('add', seen);
    route.on('update', seen);
    await route.start();
    await route.waitForSync();
    stops.push(() => route.stop());
    await create(ns, webService('shop', 'ghcr.io/acme/shop:1.0.0', 2));
    await until('shop Healthy', async () => ((await rolloutOf(ns, 'shop'))?.phase === 'Healthy' ? true : undefined), 180_000, 500);
    const times: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      emitter.setErrorRate('canary', 0);
      await sleep(7000); // the 5 s window forgets the previous fault
      await patchWs(ns, 'shop', { spec: { image: `ghcr.io/acme/shop:2.0.${run}` } });
      await until('weight 50 in the route and the analysis at 50% running', async () => {
        const r = await rolloutOf(ns, 'shop');
        if (r?.phase !== 'Progressing' && r?.phase !== 'Paused') return undefined;
        return canaryWeight === 50 && r.stepIndex === 3 && r.currentRun ? true : undefined;
      }, 180_000, 50);
      await sleep(500 + Math.random() * 3000); // somewhere inside the analysis, not aligned with a measurement
      canaryWeight = 50;
      zeroAt = 0;
      emitter.setErrorRate('canary', 0.5);
      const faultAt = Date.now();
      await until('canary weight 0 in the HTTPRoute', async () => (zeroAt ? true : undefined), 120_000, 50);
      const s = (zeroAt - faultAt) / 1000;
      const r = await rolloutOf(ns, 'shop');
      times.push(s);
      out(`1. run ${run + 1}: fault -> canary weight 0 in the HTTPRoute: ${s.toFixed(2)} s = ${(s / INTERVAL_S).toFixed(2)} intervals (phase ${r?.phase}, ${r?.failure?.reason ?? ''} ${r?.failure?.metric ?? ''})`);
    }
    emitter.setErrorRate('canary', 0);
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    out(`1. fault -> traffic back on stable (1 s scrape, ${INTERVAL_S} s interval, 5 s window, failureLimit 1), ${times.length} runs: mean ${mean.toFixed(2)} s = ${(mean / INTERVAL_S).toFixed(2)} intervals; min ${Math.min(...times).toFixed(2)} s, max ${Math.max(...times).toFixed(2)} s`);
    await ctl.stop();
  }

  // ---------------- 2. N concurrent rollouts ----------------
  if (!flags['skip-many']) {
    const ns = 'bench-many';
    await namespace(ns);
    const names = Array.from({ length: ROLLOUTS }, (_, i) => `svc-${i}`);
    const emitter = await startMultiEmitter(ns, names, 20);
    stops.push(() => emitter.stop());
    await prom.addTarget('emitter-many', emitter.hostPort);
    await create(ns, template(2));
    let queries = 0;
    const perSecond = new Map<number, number>();
    const onQuery = (): void => {
      queries += 1;
      const sec = Math.floor(Date.now() / 1000);
      perSecond.set(sec, (perSecond.get(sec) ?? 0) + 1);
    };
    let ctl = await startControllers(ns, onQuery);
    let t0 = Date.now();
    for (let i = 0; i < names.length; i += 20) await Promise.all(names.slice(i, i + 20).map((n) => create(ns, webService(n, 'ghcr.io/acme/svc:1.0.0', 1))));
    const list = async () => (await bench.list<WsObj>(WS_API, 'WebService', { namespace: ns })).items;
    await until('all Healthy', async () => {
      const items = await list();
      const ok = items.filter((w) => w.status?.rollout?.phase === 'Healthy' && available(w)).length;
      progress(`created: ${ok}/${ROLLOUTS} Healthy and Available`);
      return ok === ROLLOUTS ? true : undefined;
    }, 900_000, 5000);
    out(`2. ${ROLLOUTS} WebServices created, Healthy and Available in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    // quiet: no controller write for 5 s, so that the creation's writes are not counted as the rollouts'
    let last = -1;
    await until('the controllers quiet', async () => {
      const w = ctl.clients.counter.writes();
      const quiet = w === last;
      last = w;
      return quiet ? true : undefined;
    }, 300_000, 5000);
    for (const [round, workers] of WORKER_COUNTS.entries()) {
      if (round > 0) {
        await ctl.stop();
        WORKERS = workers;
        ctl = await startControllers(ns, onQuery);
      }
      const before = new Map((await list()).map((w) => [w.metadata?.name ?? '', w.status?.rollout?.stableRevision ?? '']));
      ctl.clients.counter.reset();
      const statusWrites0 = ctl.web.stats.statusWrites;
      queries = 0;
      perSecond.clear();
      let peakRss = 0;
      const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 1000);
      t0 = Date.now();
      for (let i = 0; i < names.length; i += 20) await Promise.all(names.slice(i, i + 20).map((n) => patchWs(ns, n, { spec: { image: `ghcr.io/acme/svc:${round + 2}.0.0` } })));
      out(`   image change patched on all ${ROLLOUTS} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      let failed: string[] = [];
      await until('all promoted', async () => {
        const items = await list();
        const done = items.filter((w) => w.status?.rollout?.phase === 'Healthy' && w.status.rollout.stableRevision !== before.get(w.metadata?.name ?? ''));
        failed = items.filter((w) => w.status?.rollout?.phase === 'RolledBack' || w.status?.rollout?.phase === 'Paused').map((w) => `${w.metadata?.name}: ${w.status?.rollout?.phase} ${w.status?.rollout?.message ?? ''}`);
        progress(`rollouts: ${done.length}/${ROLLOUTS} promoted, ${failed.length} rolled back or paused; ${queries} queries; rss ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB`);
        return done.length + failed.length === ROLLOUTS ? true : undefined;
      }, 900_000, 2000);
      const elapsed = (Date.now() - t0) / 1000;
      clearInterval(rssTimer);
      const rss = process.memoryUsage();
      const writes = ctl.clients.counter.writes();
      const steps = ROLLOUTS * gateSteps.length;
      out(`2. ${ROLLOUTS} concurrent rollouts (10 -> analysis 2 x ${INTERVAL_S} s -> 50 -> analysis -> 100) on one controller (${WORKERS} workers), real API server: all done in ${elapsed.toFixed(0)} s; ${ROLLOUTS - failed.length} promoted, ${failed.length} rolled back or paused`);
      for (const f of failed.slice(0, 5)) out(`   not promoted: ${f}`);
      const peak = Math.max(0, ...perSecond.values());
      out(`   Prometheus: ${queries} queries, mean ${(queries / elapsed).toFixed(1)}/s, peak ${peak}/s (one per running analysis per ${INTERVAL_S} s)`);
      out(`   API writes by the controllers: ${writes} = ${(writes / steps).toFixed(2)} per rollout step (${gateSteps.length} steps per rollout, promotion included) = ${(writes / ROLLOUTS).toFixed(1)} per rollout; status writes of the WebService controller ${ctl.web.stats.statusWrites - statusWrites0}`);
      const snap = ctl.clients.counter.snapshot();
      const events = ctl.clients.counter.writes({ resource: 'events.events.k8s.io' });
      out(`   of which Events ${events}; without Events ${((writes - events) / steps).toFixed(2)} per rollout step`);
      out(`   writes by verb/resource: ${Object.entries(snap).filter(([k]) => /^(create|update|patch|apply|delete)/.test(k)).map(([k, v]) => `${k}=${v}`).join(', ')}`);
      out(`   resident memory of this process (controllers + emitter + bench clients): ${(rss.rss / 1048576).toFixed(0)} MiB at the end, peak ${(peakRss / 1048576).toFixed(0)} MiB (heap used ${(rss.heapUsed / 1048576).toFixed(0)} MiB)`);
    }
    await ctl.stop();
  }
} finally {
  for (const s of stops.reverse()) await s().catch(() => undefined);
  await prom.stop();
  await cluster.stop();
}
