/**
 * Figures of the WebService golden path (issue 4):
 * 1. render throughput (pure): specs per second for render, and for render + policy;
 * 2. on a fresh local cluster: N WebServices over M namespaces from scratch to Available: wall time, API
 *    writes per WebService, steady-state writes after a full resync (must be 0), controller resident memory;
 *    and the ratio to a minimal apply loop (the same objects, server-side applied by a plain loop with the
 *    same concurrency, no cache, no status) measured in the same run.
 *
 *   node --import tsx bench/webservice.ts [--services 2000] [--namespaces 200] [--workers 8] [--render-only]
 *
 * The controller runs in this process (RSS is the process's, which also holds the bench's own clients).
 * Specs use minReplicas 1 so that the simulated pods (kwok) do not dominate the figure.
 */
import fc from 'fast-check';
import PQueue from 'p-queue';
import { pino } from 'pino';
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeClients, applyObject } from '../src/kube/index.js';
import { startLocalCluster } from '../src/localcluster/cluster.js';
import { installCrds } from '../src/install/crds.js';
import { DEPLOYER_RULES } from '../src/tenancy/render.js';
import {
  DEFAULT_PLATFORM,
  createWebServiceController,
  evaluatePolicies,
  renderWebService,
  type WebService,
} from '../src/webservice/index.js';
import { projectCrdFiles, thirdPartyCrdFiles } from '../test/support/crds.js';
import { contextFor, specArb, webService, FULL } from '../test/webservice/fixtures.js';
import { KubeConfig } from '@kubernetes/client-node';

const args = process.argv.slice(2);
const flag = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const SERVICES = flag('services', 2000);
const NAMESPACES = flag('namespaces', 200);
const WORKERS = flag('workers', 8);
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

function benchSpec(i: number): WebService['spec'] {
  return {
    image: `ghcr.io/acme/svc-${i % 50}:1.${i % 7}.0`,
    runtime: (['node', 'python', 'go', 'java', 'generic'] as const)[i % 5],
    scaling: { minReplicas: 1, maxReplicas: 3 },
    networking: i % 2 === 0 ? { visibility: 'public', host: `svc-${i}.example.com` } : { visibility: 'private', dependencies: [{ service: `svc-${i - 1}` }] },
  };
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

async function clusterFigures(): Promise<void> {
  // Simulated nodes have 64 CPUs: room for the pods of both the controller's and the minimal loop's
  // services (small tier: 100m per pod, one pod each).
  const nodes = Math.max(2, Math.ceil((SERVICES * 2 * 0.1) / 56) + 1);
  const cluster = await startLocalCluster({ nodes, onProgress: (l) => process.stderr.write(`[cluster] ${l}\n`) });
  const onSignal = (): void => void cluster.stop().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    await installCrds(kc, [...(await thirdPartyCrdFiles()), ...projectCrdFiles()], 'paved-bench');
    const admin = KubeClients.fromKubeConfig(kc);
    const setup = new PQueue({ concurrency: 16 });
    const nsNames = Array.from({ length: NAMESPACES }, (_, i) => `bench-${i}`);
    const minNs = Array.from({ length: NAMESPACES }, (_, i) => `bench-min-${i}`);
    await Promise.all(
      [...nsNames, ...minNs].map((ns) =>
        setup.add(async () => {
          const o = (x: object) => x as KubernetesObject;
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
    progress(`${nsNames.length + minNs.length} namespaces with their deployer ready`);
    const services = Array.from({ length: SERVICES }, (_, i) => webService(`svc-${i}`, nsNames[i % NAMESPACES]!, benchSpec(i)));

    // --- minimal apply loop: the same objects, into the twin namespaces, plain SSA, same concurrency.
    const minimal = KubeClients.fromKubeConfig(kc);
    const loop = new PQueue({ concurrency: WORKERS });
    const cpuMin = process.cpuUsage();
    const tMin = performance.now();
    let minimalObjects = 0;
    await Promise.all(
      services.map((ws, i) =>
        loop.add(async () => {
          const twin = webService(ws.metadata!.name!, minNs[i % NAMESPACES]!, ws.spec);
          delete twin.metadata!.uid;
          for (const obj of renderWebService(twin, contextFor(FULL, { team: 'bench' })).objects) {
            await minimal.request({
              method: 'PATCH',
              path: await minimal.resourcePath({ apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace!, name: obj.metadata.name }),
              query: { fieldManager: 'bench', force: true },
              body: obj,
              contentType: 'application/apply-patch+yaml',
            });
            minimalObjects++;
          }
        }),
      ),
    );
    const minimalSec = (performance.now() - tMin) / 1000;
    const minimalCpu = process.cpuUsage(cpuMin);
    progress(`minimal apply loop: ${minimalObjects} objects in ${minimalSec.toFixed(1)} s`);

    // --- the controller, from scratch.
    const clients = KubeClients.fromKubeConfig(kc);
    const rssBefore = process.memoryUsage().rss;
    const wc = await createWebServiceController({
      clients,
      platform: DEFAULT_PLATFORM,
      workers: WORKERS,
      logger: pino({ level: 'warn' }),
    });
    await Promise.all(wc.informers.map((i) => i.start()));
    await Promise.all(wc.informers.map((i) => i.waitForSync(120_000)));
    wc.controller.start();
    const creator = new PQueue({ concurrency: 16 });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(
      services.map((ws) =>
        creator.add(() =>
          admin.request({
            method: 'POST',
            path: `/apis/paved.dev/v1alpha1/namespaces/${ws.metadata!.namespace}/webservices`,
            body: { apiVersion: 'paved.dev/v1alpha1', kind: 'WebService', metadata: { name: ws.metadata!.name, namespace: ws.metadata!.namespace }, spec: ws.spec },
          }),
        ),
      ),
    );
    const countWith = (type: string) =>
      wc.webServices.list().filter((w) => w.status?.conditions?.some((c) => c.type === type && c.status === 'True')).length;
    const countApplied = () => wc.webServices.list().filter((w) => (w.status?.inventory?.length ?? 0) > 0).length;
    await waitFor('all applied', () => countApplied() >= SERVICES, 60 * 60_000, () => `${countApplied()}/${SERVICES}`);
    const appliedSec = (performance.now() - t0) / 1000;
    await waitFor('all Available', () => countWith('Available') >= SERVICES, 60 * 60_000, () => `${countWith('Available')}/${SERVICES}`);
    const availableSec = (performance.now() - t0) / 1000;
    const controllerCpu = process.cpuUsage(cpu0);
    const cpuSec = (u: NodeJS.CpuUsage): string => ((u.user + u.system) / 1e6).toFixed(0);
    const idle = () => wc.controller.queue.len() === 0 && wc.controller.queue.processingCount() === 0;
    await waitFor('queue idle', idle, 10 * 60_000);
    const writesToConverge = clients.counter.writes();
    const rss = process.memoryUsage().rss;

    // --- steady state: resync every cache; every key reconciles again.
    await new Promise((r) => setTimeout(r, 2_000));
    await waitFor('queue idle', idle, 10 * 60_000);
    const before = clients.counter.writes();
    const snapBefore = clients.counter.snapshot();
    for (const inf of wc.informers) inf.resync();
    await waitFor('resync idle', idle, 10 * 60_000);
    const steadyWrites = clients.counter.writes() - before;
    const snapAfter = clients.counter.snapshot();
    const diff = Object.entries(snapAfter)
      .map(([k, v]) => [k, v - (snapBefore[k] ?? 0)] as const)
      .filter(([k, d]) => d > 0 && !/^(get|list|watch) /.test(k));

    out(`cluster: ${SERVICES} WebServices over ${NAMESPACES} namespaces, ${WORKERS} workers, ${nodes} simulated nodes`);
    out(`  from scratch to all applied:   ${appliedSec.toFixed(1)} s`);
    out(`  from scratch to all Available: ${availableSec.toFixed(1)} s`);
    out(`  API writes per WebService:     ${(writesToConverge / SERVICES).toFixed(1)} (applies, status, events; total ${writesToConverge})`);
    out(`  steady-state writes (resync):  ${steadyWrites}${diff.length ? ` (${diff.map(([k, d]) => `${k}: ${d}`).join(', ')})` : ''}`);
    out(`  resident memory:               ${(rss / 2 ** 20).toFixed(0)} MiB (process; ${((rss - rssBefore) / 2 ** 20).toFixed(0)} MiB more than before the controller)`);
    out(`  minimal apply loop:            ${minimalSec.toFixed(1)} s for ${minimalObjects} objects (${(minimalObjects / minimalSec).toFixed(0)} applies/s)`);
    out(`  ratio controller/minimal:      ${(appliedSec / minimalSec).toFixed(2)} (to applied), ${(availableSec / minimalSec).toFixed(2)} (to Available)`);
    out(`  CPU of this process:           controller phase ${cpuSec(controllerCpu)} s (incl. creating the WebServices), minimal loop ${cpuSec(minimalCpu)} s`);
    await wc.controller.stop({ drainTimeoutMs: 5_000 });
    await Promise.all(wc.informers.map((i) => i.stop()));
    wc.dispose();
  } finally {
    await cluster.stop();
  }
}

renderThroughput();
if (!args.includes('--render-only')) await clusterFigures();
