/**
 * Figures of tenancy (issue 3): provision N Teams x E environments from scratch with the tenancy
 * controller running in this process (no leader election), then:
 *   - time until every Team is Ready, API writes per Team;
 *   - API writes of a steady-state resync of every cache (must be 0);
 *   - resident memory of this process (controller + its caches + the benchmark itself);
 *   - the same objects applied by a minimal server-side-apply loop (same concurrency, no caches, no
 *     status, no impersonation), and the ratio of the two wall times.
 *
 *   node --import tsx bench/tenancy.ts [--teams 200] [--envs 3] [--workers 8] [--keep]
 *
 * Uses the cluster of KUBECONFIG when set (and cleans up after itself unless --keep), else starts the
 * local cluster (src/localcluster) and stops it at the end.
 */
import { randomBytes } from 'node:crypto';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import PQueue from 'p-queue';
import type { Team } from '../src/api/index.js';
import { loadConfig } from '../src/config.js';
import { installCrds } from '../src/install/crds.js';
import { KubeClients, applyObject, isForbidden, serviceAccountUser, type ReconcileOutcome } from '../src/kube/index.js';
import { startLocalCluster, type LocalCluster } from '../src/localcluster/cluster.js';
import { startTenancyController } from '../src/tenancy/controller.js';
import { renderTenancy } from '../src/tenancy/render.js';
import { benchArgs } from './args.js';

const { teams: TEAMS, envs: ENVS, workers: WORKERS, keep: KEEP } = benchArgs({ teams: 200, envs: 3, workers: 8, keep: false });
const run = randomBytes(2).toString('hex');
const environments = ['dev', 'staging', 'prod', 'qa', 'perf', 'demo'].slice(0, ENVS);
const platform = { gatewayNamespace: 'gateway-system', monitoringNamespace: 'monitoring' };

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => console.log(line);

function team(name: string): Team {
  return {
    apiVersion: 'paved.dev/v1alpha1',
    kind: 'Team',
    metadata: { name, labels: { 'paved.dev/bench': run } },
    spec: {
      owners: { groups: [`${name}-owners`] },
      members: { groups: [`${name}-devs`] },
      costCenter: 'CC-BENCH',
      quota: { tier: 'small' },
      environments,
      deletionPolicy: 'Delete',
    },
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  let cluster: LocalCluster | undefined;
  const kc = new KubeConfig();
  if (config.KUBECONFIG) {
    kc.loadFromFile(config.KUBECONFIG);
    log(`cluster: ${kc.getCurrentCluster()?.server} (KUBECONFIG)`);
  } else {
    cluster = await startLocalCluster({ onProgress: (l) => log(`  [cluster] ${l}`) });
    kc.loadFromFile(cluster.kubeconfigPath);
    log(`cluster: local (${cluster.server})`);
  }
  try {
    await installCrds(kc, [new URL('../crds/paved.dev_teams.yaml', import.meta.url).pathname]);
    await benchmark(kc);
  } finally {
    await cluster?.stop();
  }
}

async function benchmark(kc: KubeConfig): Promise<void> {
  const admin = KubeClients.fromKubeConfig(kc);
  const clients = KubeClients.fromKubeConfig(kc);
  const names = Array.from({ length: TEAMS }, (_, i) => `b${run}-${String(i).padStart(4, '0')}`);
  const owned = new Set(names);
  const objectsPerTeam = renderTenancy(team(names[0]!), platform).reduce((n, ns) => n + ns.bootstrap.length + ns.objects.length, 0);
  log(`${TEAMS} Teams x ${ENVS} environments = ${TEAMS * ENVS} namespaces, ${objectsPerTeam} objects per Team, ${WORKERS} workers`);

  // --- the controller --------------------------------------------------------------------------
  const reconciles: Record<ReconcileOutcome, number> = { success: 0, requeue: 0, error: 0, terminal: 0, notfound: 0 };
  const tc = await startTenancyController({
    clients,
    config: {
      PAVED_GATEWAY_NAMESPACE: platform.gatewayNamespace,
      PAVED_MONITORING_NAMESPACE: platform.monitoringNamespace,
      PAVED_ORPHAN_GRACE_SECONDS: 3600,
      PAVED_RESYNC_SECONDS: 0,
      PAVED_WORKERS: WORKERS,
    },
    ownsTeam: (n) => owned.has(n),
    onOutcome: (_key, outcome) => reconciles[outcome]++,
  });
  const rssBefore = process.memoryUsage().rss;
  clients.counter.reset();
  const started = performance.now();
  const creator = new PQueue({ concurrency: 16 });
  await Promise.all(names.map((n) => creator.add(() => admin.request({ method: 'POST', path: '/apis/paved.dev/v1alpha1/teams', body: team(n) }))));
  const created = performance.now();
  let peakRss = process.memoryUsage().rss;
  const readyCount = () =>
    names.filter((n) => {
      const t = tc.caches.teams.get(n);
      return (
        t?.status?.observedGeneration === t?.metadata?.generation &&
        t?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
      );
    }).length;
  for (;;) {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (readyCount() === TEAMS) break;
    if (performance.now() - started > 30 * 60_000) throw new Error(`only ${readyCount()}/${TEAMS} Teams Ready after 30 minutes`);
    await sleep(100);
  }
  const readyMs = performance.now() - started;
  const writesToReady = clients.counter.writes();
  const snapshotToReady = clients.counter.snapshot();

  // Settle: the quota controller fills in quota status, our own last events arrive, Progressing turns False.
  const settleStart = performance.now();
  const idle = () => tc.controller.queue.len() + tc.controller.queue.processingCount() + tc.controller.queue.delayedCount() === 0;
  for (let quiet = 0; quiet < 10; ) {
    quiet = idle() ? quiet + 1 : 0;
    await sleep(200);
    if (performance.now() - settleStart > 5 * 60_000) break;
  }
  const writesSettled = clients.counter.writes();

  // --- steady-state resync -------------------------------------------------------------------
  clients.counter.reset();
  const before = { ...reconciles };
  for (const informer of tc.informers) informer.resync();
  await sleep(200);
  while (!idle()) await sleep(100);
  const resyncReconciles = Object.values(reconciles).reduce((a, b) => a + b, 0) - Object.values(before).reduce((a, b) => a + b, 0);
  const resyncWrites = clients.counter.writes();
  const resyncSnapshot = clients.counter.snapshot();
  const rss = process.memoryUsage().rss;
  const heap = process.memoryUsage().heapUsed;

  log('');
  log('controller:');
  log(`  ${TEAMS} Teams created in ${((created - started) / 1000).toFixed(1)} s; all Ready after ${(readyMs / 1000).toFixed(1)} s`);
  log(`  API writes until all Ready: ${writesToReady} (${(writesToReady / TEAMS).toFixed(1)} per Team; ${objectsPerTeam} objects per Team)`);
  log(`  API writes until settled (quota status, Progressing=False): ${writesSettled} (${(writesSettled / TEAMS).toFixed(1)} per Team)`);
  log(`  writes by kind until Ready: ${JSON.stringify(Object.fromEntries(Object.entries(snapshotToReady).filter(([k]) => !/^(get|list|watch|discovery) /.test(k))))}`);
  log(`  reconciles: ${JSON.stringify(before)}`);
  log(`  steady-state resync: ${resyncReconciles} reconciles, ${resyncWrites} API writes (must be 0)${resyncWrites ? ` ${JSON.stringify(resyncSnapshot)}` : ''}`);
  log(`  RSS of this process: ${mib(rssBefore)} before, peak ${mib(peakRss)}, ${mib(rss)} after (heap used ${mib(heap)})`);
  await tc.stop();

  // --- minimal server-side apply loop of the same objects ------------------------------------
  const rawNames = names.map((n) => n.replace(/^b/, 'r'));
  const raw = KubeClients.fromKubeConfig(kc);
  const loop = new PQueue({ concurrency: WORKERS });
  const rawStart = performance.now();
  await Promise.all(
    rawNames.map((n) =>
      loop.add(async () => {
        await Promise.all(
          renderTenancy(team(n), platform).map(async (ns) => {
            for (const obj of ns.bootstrap) await ssa(raw, obj);
            const deployer = raw.impersonate(serviceAccountUser(ns.name, 'paved-deployer'));
            for (const obj of ns.objects) await ssa(deployer, obj);
          }),
        );
      }),
    ),
  );
  const rawMs = performance.now() - rawStart;
  const rawObjects = TEAMS * objectsPerTeam;
  log('');
  log('minimal SSA loop (same objects, same concurrency, same impersonation, nothing else):');
  log(`  ${rawObjects} objects in ${(rawMs / 1000).toFixed(1)} s = ${(rawObjects / (rawMs / 1000)).toFixed(0)} objects/s (${raw.counter.writes()} writes)`);
  log(`  controller: ${(rawObjects / (readyMs / 1000)).toFixed(0)} objects/s to Ready`);
  log(`  ratio controller / minimal loop (wall time to provision): ${(readyMs / rawMs).toFixed(2)}`);

  if (!KEEP) {
    log('');
    log('cleaning up (Teams and namespaces)...');
    const cleaner = new PQueue({ concurrency: 16 });
    await Promise.all([
      ...names.map((n) =>
        cleaner.add(async () => {
          // No controller runs now: drop the finalizer, then delete the namespaces directly.
          await admin
            .request({ method: 'PATCH', path: `/apis/paved.dev/v1alpha1/teams/${n}`, body: { metadata: { finalizers: null } }, contentType: 'application/merge-patch+json' })
            .catch(() => undefined);
          await admin.delete({ apiVersion: 'paved.dev/v1alpha1', kind: 'Team', name: n });
        }),
      ),
      ...[...names, ...rawNames].flatMap((n) =>
        environments.map((e) => cleaner.add(() => admin.delete({ apiVersion: 'v1', kind: 'Namespace', name: `${n}-${e}` }))),
      ),
    ]);
  }
}

async function ssa(clients: KubeClients, obj: KubernetesObject): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await applyObject(clients, obj, { current: null, always: true });
      return;
    } catch (err) {
      // A deployer's RoleBinding takes a moment to reach the API server's authorizer.
      if (!isForbidden(err) || attempt > 100) throw err;
      await sleep(50);
    }
  }
}

await main();
