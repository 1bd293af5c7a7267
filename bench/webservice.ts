/**
 * Figures of the WebService golden path (issues 4 and 18):
 * 1. render throughput (pure): specs per second for render, and for render + policy;
 * 2. on a fresh local cluster (kwok nodes sized so every pod schedules), N WebServices over M namespaces,
 *    the WebService controller wired as main.ts wires it (shared informer factory, delivery on):
 *    - from scratch (default): a minimal server-side-apply loop of the same objects first (into twin
 *      namespaces, same concurrency, no cache, no status), then the controller creates them: time to all
 *      applied and Available, API writes per WebService, controller RSS after sync and after a full
 *      resync, writes in the steady-state resync (must be 0), watches opened, ratios to the minimal loop;
 *    - `--precreate`: the minimal loop creates the WebServices and their objects, then the controller
 *      starts over them: start (informer sync), first pass (every key reconciled once), writes of that
 *      pass, steady-state resync writes (must be 0), RSS after sync and after the resync, watches opened.
 *
 *   node --import tsx bench/webservice.ts [--services 2000] [--namespaces 1000] [--workers 8] [--precreate] [--render-only] [--heap-snapshot FILE]
 *
 * `--heap-snapshot FILE` writes a V8 heap snapshot after the resync (for finding what the memory holds).
 * With `node --expose-gc`, the live heap of the controller's caches alone is also measured twice over the
 * same objects: with the caches' transform (`cacheTransformFor`) and with `stripForCache` only (before).
 *
 * The controller runs in this process (RSS is the process's, which also holds the bench's own clients).
 * Specs use minReplicas 1 so that the simulated pods (kwok) do not dominate the figure.
 */
import v8 from 'node:v8';
import fc from 'fast-check';
import PQueue from 'p-queue';
import { pino } from 'pino';
import type { KubernetesObject } from '@kubernetes/client-node';
import { APPLIED_HASH_ANNOTATION, FieldManagers, KubeClients, applyObject, createInformerFactory, hashIntent, stripForCache, type InformerFactoryOptions } from '../src/kube/index.js';
import { startLocalCluster } from '../src/localcluster/cluster.js';
import { installCrds } from '../src/install/crds.js';
import { DEPLOYER_RULES } from '../src/tenancy/render.js';
import {
  DEFAULT_PLATFORM,
  createWebServiceController,
  evaluatePolicies,
  renderDesiredPodTemplate,
  renderWebService,
  type WebService,
  type WebServiceController,
} from '../src/webservice/index.js';
import { projectCrdFiles, thirdPartyCrdFiles } from '../test/support/crds.js';
import { contextFor, specArb, webService, FULL } from '../test/webservice/fixtures.js';
import { KubeConfig } from '@kubernetes/client-node';
import { benchArgs } from './args.js';
import { benchSpec } from './webservice-specs.js';

const flags = benchArgs({ services: 2000, namespaces: 1000, precreate: false, workers: 8, 'heap-snapshot': '', 'render-only': false });
const SERVICES = flags.services;
const NAMESPACES = flags.namespaces;
const PRECREATE = flags.precreate;
const WORKERS = flags.workers;
const HEAP_SNAPSHOT = flags['heap-snapshot'] || undefined;
const out = (line: string): void => void process.stdout.write(`${line}\n`);
const progress = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);

function renderThroughput(): void {
  const specs = fc.sample(specArb, { numRuns: 500, seed: 7 }).map((s, i) => webService(`svc-${i}`, 'team-a', s));
  const ctx = contextFor(FULL);
  for (let r = 0; r < 3; r++) for (const ws of specs) evaluatePolicies(renderWebService(ws, ctx).objects, { namespace: 'team-a', allowedRegistries: [] }); // warm up the JIT
  const rounds = 10;
  let t = performance.now();
  for (let r = 0; r < rounds; r++) for (const ws of specs) renderWebService(ws, ctx);
  const renderSec = (performance.now() - t) / 1000;
  t = performance.now();
  let objects = 0;
  for (let r = 0; r < rounds; r++) {
    for (const ws of specs) {
      const res = renderWebService(ws, ctx);
      objects += res.objects.length;
      evaluatePolicies(res.objects, { namespace: 'team-a', allowedRegistries: [] });
    }
  }
  const bothSec = (performance.now() - t) / 1000;
  const n = specs.length * rounds;
  out(`render: ${(n / renderSec).toFixed(0)} specs/s; render + policy: ${(n / bothSec).toFixed(0)} specs/s (${(objects / n).toFixed(1)} objects per spec, ${n} random valid specs)`);
}

async function waitFor(what: string, cond: () => boolean, timeoutMs: number, report?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = Date.now();
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    if (report && Date.now() - last > 15_000) {
      progress(`${what}: ${report()}`);
      last = Date.now();
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The objects of a new WebService as the controller renders them (its first pass: the stable template stamped). */
function renderNew(ws: WebService): ReturnType<typeof renderWebService>['objects'] {
  const ctx = contextFor(FULL, { team: 'bench' });
  return renderWebService(ws, { ...ctx, rollout: { stableTemplate: renderDesiredPodTemplate(ws, ctx).template } }).objects;
}

type Clients = KubeClients;
const mib = (b: number): string => (b / 2 ** 20).toFixed(0);

/**
 * The minimal loop: server-side apply of every object, one WebService at a time per worker. It stamps the
 * intent's hash as applyObject does, so objects it pre-creates are ones the controller finds up to date.
 */
async function minimalLoop(client: Clients, items: ReadonlyArray<() => Promise<WebService>>): Promise<{ sec: number; objects: number; cpu: NodeJS.CpuUsage }> {
  const loop = new PQueue({ concurrency: WORKERS });
  const cpu0 = process.cpuUsage();
  const t = performance.now();
  let objects = 0;
  await Promise.all(
    items.map((item) =>
      loop.add(async () => {
        for (const obj of renderNew(await item())) {
          await client.request({
            method: 'PATCH',
            path: await client.resourcePath({ apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace!, name: obj.metadata.name }),
            query: { fieldManager: FieldManagers.webService, force: true },
            body: { ...obj, metadata: { ...obj.metadata, annotations: { ...obj.metadata.annotations, [APPLIED_HASH_ANNOTATION]: hashIntent(obj) } } },
            contentType: 'application/apply-patch+yaml',
          });
          objects++;
        }
      }),
    ),
  );
  return { sec: (performance.now() - t) / 1000, objects, cpu: process.cpuUsage(cpu0) };
}

/** Namespaces labelled for the team, each with the deployer tenancy would create. */
async function createNamespaces(admin: Clients, names: readonly string[]): Promise<void> {
  const setup = new PQueue({ concurrency: 16 });
  const o = (x: object) => x as KubernetesObject;
  await Promise.all(
    names.map((ns) =>
      setup.add(async () => {
        await applyObject(admin, o({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'paved.dev/team': 'bench' } } }));
        const meta = { name: 'paved-deployer', namespace: ns };
        await applyObject(admin, o({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta }));
        await applyObject(admin, o({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta, rules: DEPLOYER_RULES }));
        await applyObject(admin, o({
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: meta,
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'paved-deployer' },
          subjects: [{ kind: 'ServiceAccount', name: 'paved-deployer', namespace: ns }],
        }));
      }),
    ),
  );
}

async function postWebService(admin: Clients, ws: WebService): Promise<WebService> {
  return admin.request<WebService>({
    method: 'POST',
    path: `/apis/paved.dev/v1alpha1/namespaces/${ws.metadata!.namespace}/webservices`,
    body: { apiVersion: 'paved.dev/v1alpha1', kind: 'WebService', metadata: { name: ws.metadata!.name, namespace: ws.metadata!.namespace }, spec: ws.spec },
  });
}

/** The controller as main.ts wires it: shared informers, delivery on (no Prometheus: no rollout here needs one). */
async function startController(kc: KubeConfig): Promise<{ wc: WebServiceController; clients: Clients; watches: number; startSec: number; stop(): Promise<void> }> {
  const clients = KubeClients.fromKubeConfig(kc);
  const logger = pino({ level: 'warn' });
  const informers = createInformerFactory({ clients, logger, resyncPeriodMs: 0 });
  const wc = await createWebServiceController({
    clients, platform: DEFAULT_PLATFORM, workers: WORKERS, logger, informers,
    delivery: { provider: { query: () => Promise.resolve({ kind: 'noData' as const }) } },
  });
  const t = performance.now();
  await informers.start(10 * 60_000);
  const startSec = (performance.now() - t) / 1000;
  wc.controller.start();
  return {
    wc, clients, startSec, watches: informers.scopes().length,
    async stop() {
      await wc.controller.stop({ drainTimeoutMs: 5_000 });
      await informers.stop();
      wc.dispose();
    },
  };
}

/** Resyncs every cache (every key reconciles again) and counts the writes it caused. */
async function steadyResync(c: { wc: WebServiceController; clients: Clients }, idle: () => boolean): Promise<{ writes: number; diff: string }> {
  await new Promise((r) => setTimeout(r, 2_000));
  await waitFor('queue idle', idle, 10 * 60_000);
  const before = c.clients.counter.writes();
  const snapBefore = c.clients.counter.snapshot();
  for (const inf of c.wc.informers) inf.resync();
  await waitFor('resync idle', idle, 10 * 60_000);
  const snapAfter = c.clients.counter.snapshot();
  const diff = Object.entries(snapAfter)
    .map(([k, v]) => [k, v - (snapBefore[k] ?? 0)] as const)
    .filter(([k, d]) => d > 0 && !/^(get|list|watch) /.test(k));
  return { writes: c.clients.counter.writes() - before, diff: diff.length ? ` (${diff.map(([k, d]) => `${k}: ${d}`).join(', ')})` : '' };
}

const writesByVerb = (clients: Clients): string =>
  Object.entries(clients.counter.snapshot())
    .filter(([k]) => /^(create|update|patch|apply|delete)/.test(k))
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

/** What each informer holds: objects and their size as JSON (a proxy of the heap they take). */
function cacheFigures(wc: WebServiceController): string {
  const seen = new Set<unknown>();
  return wc.informers
    .filter((inf) => (seen.has(inf) ? false : (seen.add(inf), true)))
    .map((inf) => {
      const objs = inf.list();
      const bytes = objs.reduce((n, o) => n + JSON.stringify(o).length, 0);
      return { kind: inf.kind, n: objs.length, bytes };
    })
    .sort((a, b) => b.bytes - a.bytes)
    .map((c) => `${c.kind} ${c.n} (${mib(c.bytes)} MiB JSON${c.n ? `, ${(c.bytes / c.n / 1024).toFixed(1)} KiB each` : ''})`)
    .join(', ');
}

/** Writes the heap snapshot asked for with --heap-snapshot. */
function maybeHeapSnapshot(): void {
  if (!HEAP_SNAPSHOT) return;
  progress(`heap snapshot: ${v8.writeHeapSnapshot(HEAP_SNAPSHOT)}`);
}

/**
 * The live heap (after a full GC) of the controller's informer caches over the objects in the cluster,
 * with the given cache transform (the controller is built, not started). Needs node --expose-gc.
 */
async function cachesHeap(kc: KubeConfig, cacheTransform?: InformerFactoryOptions['cacheTransform']): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const clients = KubeClients.fromKubeConfig(kc);
  const informers = createInformerFactory({ clients, ...(cacheTransform ? { cacheTransform } : {}) });
  const wc = await createWebServiceController({
    clients, platform: DEFAULT_PLATFORM, workers: WORKERS, informers,
    delivery: { provider: { query: () => Promise.resolve({ kind: 'noData' as const }) } },
  });
  gc();
  const before = process.memoryUsage().heapUsed;
  await informers.start(10 * 60_000);
  gc();
  const held = process.memoryUsage().heapUsed - before;
  await informers.stop();
  wc.dispose();
  return held;
}

/** The caches' live heap with stripForCache alone (before) and with cacheTransformFor (after), one run. */
async function compareCaches(kc: KubeConfig): Promise<void> {
  if (!(globalThis as { gc?: () => void }).gc) return;
  const strip = await cachesHeap(kc, () => stripForCache);
  const pruned = await cachesHeap(kc);
  const per = (b: number): string => `${(b / 2 ** 10 / SERVICES).toFixed(1)} KiB per WebService`;
  out(`  caches' live heap (GC'd):      stripForCache only ${mib(strip)} MiB (${per(strip)}); cacheTransformFor ${mib(pruned)} MiB (${per(pruned)})`);
}

const watchesOf = (clients: Clients): number =>
  Object.entries(clients.counter.snapshot()).filter(([k]) => k.startsWith('watch ')).reduce((s, [, v]) => s + v, 0);

async function fromScratch(kc: KubeConfig, admin: Clients, nsNames: string[], minNs: string[]): Promise<void> {
  const services = Array.from({ length: SERVICES }, (_, i) => webService(`svc-${i}`, nsNames[i % NAMESPACES]!, benchSpec(i)));
  const minimal = await minimalLoop(
    KubeClients.fromKubeConfig(kc),
    services.map((ws, i) => () => {
      const twin = webService(ws.metadata!.name!, minNs[i % NAMESPACES]!, ws.spec);
      delete twin.metadata!.uid;
      return Promise.resolve(twin);
    }),
  );
  progress(`minimal apply loop: ${minimal.objects} objects in ${minimal.sec.toFixed(1)} s`);
  const rssBefore = process.memoryUsage().rss;
  const ctl = await startController(kc);
  const { wc, clients } = ctl;
  const creator = new PQueue({ concurrency: 16 });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(services.map((ws) => creator.add(() => postWebService(admin, ws))));
  const countWith = (type: string) => wc.webServices.list().filter((w) => w.status?.conditions?.some((c) => c.type === type && c.status === 'True')).length;
  const countApplied = () => wc.webServices.list().filter((w) => (w.status?.inventory?.length ?? 0) > 0).length;
  await waitFor('all applied', () => countApplied() >= SERVICES, 60 * 60_000, () => `${countApplied()}/${SERVICES}`);
  const appliedSec = (performance.now() - t0) / 1000;
  await waitFor('all Available', () => countWith('Available') >= SERVICES, 60 * 60_000, () => `${countWith('Available')}/${SERVICES}`);
  const availableSec = (performance.now() - t0) / 1000;
  const controllerCpu = process.cpuUsage(cpu0);
  const idle = () => wc.controller.queue.len() === 0 && wc.controller.queue.processingCount() === 0;
  await waitFor('queue idle', idle, 10 * 60_000);
  const writesToConverge = clients.counter.writes();
  const byVerb = writesByVerb(clients);
  const rssSync = process.memoryUsage().rss;
  const steady = await steadyResync(ctl, idle);
  const rssResync = process.memoryUsage().rss;
  maybeHeapSnapshot();
  const cpuSec = (u: NodeJS.CpuUsage): string => ((u.user + u.system) / 1e6).toFixed(0);
  const objectsPerWs = minimal.objects / SERVICES;
  out(`cluster: ${SERVICES} WebServices over ${NAMESPACES} namespaces, ${WORKERS} workers, from scratch`);
  out(`  from scratch to all applied:   ${appliedSec.toFixed(1)} s`);
  out(`  from scratch to all Available: ${availableSec.toFixed(1)} s`);
  out(`  API writes per WebService:     ${(writesToConverge / SERVICES).toFixed(1)} for ${objectsPerWs.toFixed(1)} owned objects (applies, status, events; total ${writesToConverge}; target <= objects + 2)`);
  out(`  writes by verb/resource:       ${byVerb}`);
  out(`  steady-state writes (resync):  ${steady.writes}${steady.diff}`);
  out(`  resident memory:               ${mib(rssSync)} MiB after sync, ${mib(rssResync)} MiB after a full resync (process; ${mib(rssSync - rssBefore)} MiB more than before the controller; heap used ${mib(process.memoryUsage().heapUsed)} MiB)`);
  out(`  watches opened:                ${watchesOf(clients)} (${ctl.watches} informer scopes; informers synced in ${ctl.startSec.toFixed(1)} s)`);
  out(`  caches:                        ${cacheFigures(wc)}`);
  out(`  minimal apply loop:            ${minimal.sec.toFixed(1)} s for ${minimal.objects} objects (${(minimal.objects / minimal.sec).toFixed(0)} applies/s)`);
  out(`  ratio controller/minimal:      ${(appliedSec / minimal.sec).toFixed(2)} (time to applied), ${(availableSec / minimal.sec).toFixed(2)} (to Available), ${(writesToConverge / minimal.objects).toFixed(2)} (writes)`);
  out(`  CPU of this process:           controller phase ${cpuSec(controllerCpu)} s (incl. creating the WebServices), minimal loop ${cpuSec(minimal.cpu)} s`);
  await ctl.stop();
  await compareCaches(kc);
}

async function precreated(kc: KubeConfig, admin: Clients, nsNames: string[]): Promise<void> {
  const services = Array.from({ length: SERVICES }, (_, i) => webService(`svc-${i}`, nsNames[i % NAMESPACES]!, benchSpec(i)));
  // The minimal loop creates each WebService and applies its objects (owned by it: the created uid).
  const minimal = await minimalLoop(admin, services.map((ws) => () => postWebService(admin, ws)));
  progress(`minimal loop: ${SERVICES} WebServices and ${minimal.objects} objects in ${minimal.sec.toFixed(1)} s`);
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const ctl = await startController(kc);
  const { wc, clients } = ctl;
  const idle = () => wc.controller.queue.len() === 0 && wc.controller.queue.processingCount() === 0;
  const withStatus = () => wc.webServices.list().filter((w) => (w.status?.inventory?.length ?? 0) > 0).length;
  await waitFor('first pass', () => withStatus() >= SERVICES && idle(), 60 * 60_000, () => `${withStatus()}/${SERVICES}`);
  const syncSec = (performance.now() - t0) / 1000;
  const firstPassWrites = clients.counter.writes();
  const byVerb = writesByVerb(clients);
  const rssSync = process.memoryUsage().rss;
  const steady = await steadyResync(ctl, idle);
  const rssResync = process.memoryUsage().rss;
  maybeHeapSnapshot();
  out(`cluster: ${SERVICES} WebServices over ${NAMESPACES} namespaces, ${WORKERS} workers, pre-created by the minimal loop`);
  out(`  controller start (informers synced): ${ctl.startSec.toFixed(1)} s`);
  out(`  start to every key reconciled once:  ${syncSec.toFixed(1)} s (${(syncSec / minimal.sec).toFixed(2)} x the minimal loop's ${minimal.sec.toFixed(1)} s)`);
  out(`  writes of that first pass:           ${firstPassWrites} (${(firstPassWrites / SERVICES).toFixed(2)} per WebService)`);
  out(`  writes by verb/resource:             ${byVerb}`);
  out(`  steady-state writes (resync):        ${steady.writes}${steady.diff}`);
  out(`  resident memory:                     ${mib(rssSync)} MiB after sync, ${mib(rssResync)} MiB after a full resync (${mib(rssSync - rssBefore)} MiB more than before the controller; heap used ${mib(process.memoryUsage().heapUsed)} MiB)`);
  out(`  watches opened:                      ${watchesOf(clients)} (${ctl.watches} informer scopes)`);
  out(`  caches:                              ${cacheFigures(wc)}`);
  await ctl.stop();
  await compareCaches(kc);
}

async function clusterFigures(): Promise<void> {
  // Simulated nodes: 64 CPUs and 1000 pods each. Every service runs one pod (small tier, 100m); from
  // scratch the minimal loop's twins run theirs too. Sized by CPU and by pod count, plus one spare.
  const pods = SERVICES * (PRECREATE ? 1 : 2);
  const nodes = Math.max(2, Math.ceil((pods * 0.1) / 56), Math.ceil(pods / 900)) + 1;
  const cluster = await startLocalCluster({ nodes, onProgress: (l) => process.stderr.write(`[cluster] ${l}\n`) });
  const onSignal = (): void => void cluster.stop().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    await installCrds(kc, [...(await thirdPartyCrdFiles()), ...projectCrdFiles()], 'paved-bench');
    const admin = KubeClients.fromKubeConfig(kc);
    const nsNames = Array.from({ length: NAMESPACES }, (_, i) => `bench-${i}`);
    const minNs = PRECREATE ? [] : Array.from({ length: NAMESPACES }, (_, i) => `bench-min-${i}`);
    await createNamespaces(admin, [...nsNames, ...minNs]);
    progress(`${nsNames.length + minNs.length} namespaces with their deployer ready; ${nodes} simulated nodes`);
    if (PRECREATE) await precreated(kc, admin, nsNames);
    else await fromScratch(kc, admin, nsNames, minNs);
  } finally {
    await cluster.stop();
  }
}

renderThroughput();
if (!flags['render-only']) await clusterFigures();
