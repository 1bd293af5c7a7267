/**
 * Figures of the WebService golden path (issues 4 and 18):
 * 1. render throughput (pure): specs per second for render, and for render + policy;
 * 2. on a fresh local cluster (kwok nodes sized so every pod schedules), N WebServices over M namespaces,
 *    the WebService controller wired as main.ts wires it (shared informer factory, delivery on):
 *    - from scratch (default): a minimal server-side-apply loop of the same objects first (into twin
 *      namespaces, same concurrency, no cache, no status; the twins are deleted and gone before the
 *      controller starts, so both begin on a cluster of the same size; `--keep-twins` skips that wait and
 *      leaves the controller the larger cluster), then the controller creates them: time to all
 *      applied and Available, API writes per WebService, controller RSS after sync and after a full
 *      resync, writes in the steady-state resync (must be 0), watches opened, ratios to the minimal loop;
 *    - `--precreate`: the minimal loop creates the WebServices and their objects, then the controller
 *      starts over them: start (informer sync), first pass (every key reconciled once), writes of that
 *      pass, steady-state resync writes (must be 0), RSS after sync and after the resync, watches opened.
 *
 *   node --import tsx bench/webservice.ts [--services 2000] [--namespaces 1000] [--workers 8] [--precreate] [--render-only] [--heap-snapshot FILE] [--hpa-controller] [--no-heap-cap] [--keep-twins]
 *
 * kube-controller-manager's HPA controller is off unless `--hpa-controller`: the local cluster tunes it
 * for tests (every HPA every 2 s: a scale GET, a failed metrics read and its Events, per HPA per sync),
 * load on the API server that grows with the count and is not paved's. paved's readiness does not read
 * HPA status, so no figure of the controller depends on it.
 *
 * `--heap-snapshot FILE` writes a V8 heap snapshot after the resync (for finding what the memory holds).
 * With `node --expose-gc`, the live heap of the controller's caches alone is also measured twice over the
 * same objects: with the caches' transform (`cacheTransformFor`) and with `stripForCache` only (before).
 *
 * The controller runs in a process of its own (bench/webservice-controller.ts, compiled, run by plain
 * node as the image runs dist/), with the Deployment's heap cap (`--max-old-space-size=384`; `--no-heap-cap` leaves V8 its default), so its memory figures are the
 * controller's alone: as found, and after full collections (the live heap). Specs use minReplicas 1 so
 * that the simulated pods (kwok) do not dominate the cluster.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import fc from 'fast-check';
import PQueue from 'p-queue';
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
} from '../src/webservice/index.js';
import type { ControllerReport, MemoryFigures } from './webservice-controller.js';
import { projectCrdFiles, thirdPartyCrdFiles } from '../test/support/crds.js';
import { contextFor, specArb, webService, FULL } from '../test/webservice/fixtures.js';
import { KubeConfig } from '@kubernetes/client-node';
import { benchArgs } from './args.js';
import { benchSpec } from './webservice-specs.js';

const flags = benchArgs({ services: 2000, namespaces: 1000, precreate: false, workers: 8, 'heap-snapshot': '', 'render-only': false, 'hpa-controller': false, 'no-heap-cap': false, 'keep-twins': false });
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
  const ticker = setInterval(() => progress(`minimal loop: ${objects} objects in ${((performance.now() - t) / 1000).toFixed(0)} s`), 60_000);
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
  ).finally(() => clearInterval(ticker));
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

/**
 * Deletes the minimal loop's twin namespaces and waits until they are gone, so that the controller starts
 * on a cluster of the size the minimal loop started on (the API server slows as objects accumulate).
 */
async function deleteNamespaces(admin: Clients, names: readonly string[]): Promise<number> {
  const t = performance.now();
  const deleter = new PQueue({ concurrency: 16 });
  await Promise.all(names.map((ns) => deleter.add(() => admin.request({ method: 'DELETE', path: `/api/v1/namespaces/${ns}` }))));
  const twins = new Set(names);
  for (;;) {
    const left = (await admin.request<{ items: KubernetesObject[] }>({ method: 'GET', path: '/api/v1/namespaces' })).items.filter((n) => twins.has(n.metadata!.name!)).length;
    if (left === 0) return (performance.now() - t) / 1000;
    progress(`waiting for the minimal loop's namespaces to go: ${left} left`);
    await new Promise((r) => setTimeout(r, 15_000));
  }
}

async function postWebService(admin: Clients, ws: WebService): Promise<WebService> {
  return admin.request<WebService>({
    method: 'POST',
    path: `/apis/paved.dev/v1alpha1/namespaces/${ws.metadata!.namespace}/webservices`,
    body: { apiVersion: 'paved.dev/v1alpha1', kind: 'WebService', metadata: { name: ws.metadata!.name, namespace: ws.metadata!.namespace }, spec: ws.spec },
  });
}

/** The controller process's heap cap: the Deployment's (deploy/paved/40-deployment.yaml NODE_OPTIONS). */
const DEPLOYMENT_HEAP_CAP = '--max-old-space-size=384';

/** The controller in its own process (bench/webservice-controller.ts), read as a sequence of reports. */
interface ControllerProcess {
  next<K extends ControllerReport['kind']>(kind: K): Promise<Extract<ControllerReport, { kind: K }>>;
  exited(): Promise<void>;
}

/**
 * bench/webservice-controller.ts compiled to one ES module (its node_modules imports left as they are), so
 * the controller runs as the image runs dist/: plain node, without tsx, whose loader thread alone holds
 * about 80 MiB. Written to .paved/bench/, so that node_modules resolve from it and paths modules take from
 * import.meta.url (analysis-templates/, two folders up as from src/<capability>/) still reach the repository.
 */
async function compileController(): Promise<string> {
  const outfile = fileURLToPath(new URL('../.paved/bench/webservice-controller.mjs', import.meta.url));
  await build({
    entryPoints: [fileURLToPath(new URL('./webservice-controller.ts', import.meta.url))],
    bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile, logLevel: 'warning',
  });
  return outfile;
}

function forkController(entry: string, kubeconfig: string, mode: 'scratch' | 'precreate'): ControllerProcess {
  const child = fork(entry, [
    '--kubeconfig', kubeconfig, '--services', String(SERVICES), '--workers', String(WORKERS), '--mode', mode,
    ...(HEAP_SNAPSHOT ? ['--heap-snapshot', HEAP_SNAPSHOT] : []),
  ], { execArgv: ['--expose-gc', ...(flags['no-heap-cap'] ? [] : [DEPLOYMENT_HEAP_CAP])] });
  const inbox: ControllerReport[] = [];
  let wake: (() => void) | undefined;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.on('message', (m: ControllerReport) => {
    inbox.push(m);
    wake?.();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
    exit = { code, signal };
    wake?.();
    resolve();
  }));
  return {
    exited: () => exited,
    async next(kind) {
      for (;;) {
        const i = inbox.findIndex((m) => m.kind === kind);
        if (i >= 0) return inbox.splice(i, 1)[0] as Extract<ControllerReport, { kind: typeof kind }>;
        if (exit) throw new Error(`the controller process exited (code ${exit.code}, signal ${exit.signal}) before reporting "${kind}"`);
        await new Promise<void>((r) => (wake = r));
      }
    },
  };
}

const memoryLine = (m: MemoryFigures): string => `${mib(m.rss)} MiB (${mib(m.rssAfterGc)} MiB after GC; heap used ${mib(m.heapUsed)} MiB, ${mib(m.heapUsedAfterGc)} MiB live)`;

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

const cpuSec = (u: NodeJS.CpuUsage): string => ((u.user + u.system) / 1e6).toFixed(0);

async function fromScratch(kc: KubeConfig, kubeconfig: string, admin: Clients, nsNames: string[], minNs: string[]): Promise<void> {
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
  if (flags['keep-twins']) progress("minimal loop's namespaces kept (--keep-twins): the controller starts on a cluster twice the size");
  else progress(`minimal loop's namespaces deleted in ${(await deleteNamespaces(admin, minNs)).toFixed(0)} s`);
  const ctl = forkController(await compileController(), kubeconfig, 'scratch');
  const ready = await ctl.next('ready');
  progress(`controller process: informers synced in ${ready.startSec.toFixed(1)} s, ${memoryLine(ready.memory)}; creating ${SERVICES} WebServices`);
  const creator = new PQueue({ concurrency: 16 });
  const t0 = Date.now();
  await Promise.all(services.map((ws) => creator.add(() => postWebService(admin, ws))));
  const appliedSec = ((await ctl.next('applied')).at - t0) / 1000;
  progress(`all applied in ${appliedSec.toFixed(1)} s`);
  const availableSec = ((await ctl.next('available')).at - t0) / 1000;
  const synced = await ctl.next('synced');
  const steady = await ctl.next('resynced');
  await ctl.exited();
  const objectsPerWs = minimal.objects / SERVICES;
  out(`cluster: ${SERVICES} WebServices over ${NAMESPACES} namespaces, ${WORKERS} workers, from scratch`);
  out(`  from scratch to all applied:   ${appliedSec.toFixed(1)} s`);
  out(`  from scratch to all Available: ${availableSec.toFixed(1)} s`);
  out(`  API writes per WebService:     ${(synced.writes / SERVICES).toFixed(1)} for ${objectsPerWs.toFixed(1)} owned objects (applies, status, events; total ${synced.writes}; target <= objects + 2)`);
  out(`  writes by verb/resource:       ${synced.byVerb}`);
  out(`  steady-state writes (resync):  ${steady.writes}${steady.diff}`);
  out(`  controller process memory:     ${memoryLine(ready.memory)} at start; ${memoryLine(synced.memory)} after sync; ${memoryLine(steady.memory)} after a full resync`);
  out(`  watches opened:                ${steady.watches} (${ready.scopes} informer scopes; informers synced in ${ready.startSec.toFixed(1)} s)`);
  out(`  caches:                        ${steady.caches}`);
  out(`  minimal apply loop:            ${minimal.sec.toFixed(1)} s for ${minimal.objects} objects (${(minimal.objects / minimal.sec).toFixed(0)} applies/s)`);
  out(`  ratio controller/minimal:      ${(appliedSec / minimal.sec).toFixed(2)} (time to applied), ${(availableSec / minimal.sec).toFixed(2)} (to Available), ${(synced.writes / minimal.objects).toFixed(2)} (writes)`);
  out(`  CPU:                           controller process ${synced.cpuSec.toFixed(0)} s to sync; minimal loop ${cpuSec(minimal.cpu)} s`);
  await compareCaches(kc);
}

async function precreated(kc: KubeConfig, kubeconfig: string, admin: Clients, nsNames: string[]): Promise<void> {
  const services = Array.from({ length: SERVICES }, (_, i) => webService(`svc-${i}`, nsNames[i % NAMESPACES]!, benchSpec(i)));
  // The minimal loop creates each WebService and applies its objects (owned by it: the created uid).
  const minimal = await minimalLoop(admin, services.map((ws) => () => postWebService(admin, ws)));
  progress(`minimal loop: ${SERVICES} WebServices and ${minimal.objects} objects in ${minimal.sec.toFixed(1)} s`);
  const entry = await compileController();
  const t0 = Date.now();
  const ctl = forkController(entry, kubeconfig, 'precreate');
  const ready = await ctl.next('ready');
  progress(`controller process: informers synced in ${ready.startSec.toFixed(1)} s, ${memoryLine(ready.memory)}`);
  const synced = await ctl.next('synced');
  const syncSec = (synced.at - t0) / 1000;
  progress(`every key reconciled once ${syncSec.toFixed(1)} s after the fork; resyncing`);
  const steady = await ctl.next('resynced');
  await ctl.exited();
  out(`cluster: ${SERVICES} WebServices over ${NAMESPACES} namespaces, ${WORKERS} workers, pre-created by the minimal loop`);
  out(`  controller start (informers synced): ${ready.startSec.toFixed(1)} s`);
  out(`  fork to every key reconciled once:   ${syncSec.toFixed(1)} s (${(syncSec / minimal.sec).toFixed(2)} x the minimal loop's ${minimal.sec.toFixed(1)} s)`);
  out(`  writes of that first pass:           ${synced.writes} (${(synced.writes / SERVICES).toFixed(2)} per WebService)`);
  out(`  writes by verb/resource:             ${synced.byVerb}`);
  out(`  steady-state writes (resync):        ${steady.writes}${steady.diff}`);
  out(`  controller process memory:           ${memoryLine(ready.memory)} with caches synced, before the first pass; ${memoryLine(synced.memory)} after the first pass; ${memoryLine(steady.memory)} after a full resync`);
  out(`  watches opened:                      ${steady.watches} (${ready.scopes} informer scopes)`);
  out(`  caches:                              ${steady.caches}`);
  out(`  CPU of the controller process:       ${synced.cpuSec.toFixed(0)} s for the first pass`);
  await compareCaches(kc);
}

async function clusterFigures(): Promise<void> {
  // Simulated nodes: 64 CPUs and 1000 pods each. Every service runs one pod (small tier, 100m); from
  // scratch the minimal loop's twins run theirs too. Sized by CPU and by pod count, plus one spare.
  const pods = SERVICES * (PRECREATE ? 1 : 2);
  const nodes = Math.max(2, Math.ceil((pods * 0.1) / 56), Math.ceil(pods / 900)) + 1;
  const cluster = await startLocalCluster({
    nodes,
    onProgress: (l) => process.stderr.write(`[cluster] ${l}\n`),
    disabledControllers: flags['hpa-controller'] ? [] : ['horizontal-pod-autoscaler-controller'],
  });
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
    if (PRECREATE) await precreated(kc, cluster.kubeconfigPath, admin, nsNames);
    else await fromScratch(kc, cluster.kubeconfigPath, admin, nsNames, minNs);
  } finally {
    await cluster.stop();
  }
}

renderThroughput();
if (!flags['render-only']) await clusterFigures();
