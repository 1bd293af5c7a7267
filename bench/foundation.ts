/**
 * Figures of the foundation (issues 2 and 12): warm start of the local cluster to a healthy API
 * server, Ready nodes and (unless --no-exporters) healthy kube-state-metrics and metrics-server,
 * resident memory of each process, the time from a pod's usage annotation change to the HPA's new
 * replica count, and (with --cold) a cold build of the binaries with an empty Go build cache: wall
 * time per binary and in all, and peak memory.
 *
 *   node --import tsx bench/foundation.ts [--cold] [--runs N] [--no-exporters]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBinaries } from '../src/localcluster/binaries.js';
import { AppsV1Api, AutoscalingV2Api, CoreV1Api, KubeConfig, PatchStrategy, Watch, setHeaderOptions, type V1ConfigMap } from '@kubernetes/client-node';
import { USAGE_ANNOTATIONS } from '../src/localcluster/exporters.js';
import { startLocalCluster, type LocalCluster } from '../src/localcluster/cluster.js';
import { benchArgs } from './args.js';

const flags = benchArgs({ runs: 3, 'no-exporters': false, cold: false });
const runs = flags.runs;
const exporters = !flags['no-exporters'];

function rssKiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

if (flags.cold) {
  // A cold build of the whole set (control plane and kubectl, kwok, the exporters, Prometheus and promtool):
  // empty Go build cache (modules stay cached: they are downloads, not builds).
  const cache = mkdtempSync(join(tmpdir(), 'paved-bench-cold-'));
  const gocache = join(cache, 'gocache');
  const started = Date.now();
  const res = spawnSync('/usr/bin/time', ['-v', process.execPath, '--import', 'tsx', '-e',
    `import('${new URL('../src/localcluster/binaries.ts', import.meta.url).pathname}').then(async (m) => { const o = { cacheDir: '${cache}', exporters: ${exporters}, onProgress: (l) => console.log(l) }; await m.ensureBinaries(o); await m.ensurePrometheusBinaries(o); })`],
  { env: { ...process.env, GOCACHE: gocache }, encoding: 'utf8' });
  const seconds = (Date.now() - started) / 1000;
  const peak = /Maximum resident set size \(kbytes\): (\d+)/.exec(res.stderr)?.[1];
  // ensureBinaries reports "built <label> in N s -> path" per binary.
  for (const m of res.stdout.matchAll(/^built (.+?) in (\d+) s/gm)) console.log(`  cold build of ${m[1]}: ${m[2]} s`);
  console.log(`cold build (empty GOCACHE, the whole set): ${seconds.toFixed(0)} s wall, peak RSS of one process ${(Number(peak) / 1024).toFixed(0)} MiB, exit ${res.status}`);
  rmSync(cache, { recursive: true, force: true });
}

await ensureBinaries({ exporters });
const starts: number[] = [];
for (let i = 0; i < runs; i++) {
  const t = performance.now();
  const cluster = await startLocalCluster({ exporters });
  starts.push((performance.now() - t) / 1000);
  if (i === runs - 1) {
    await measureWatchLatency(cluster);
    if (exporters) await measureHpaReaction(cluster);
    await new Promise((r) => setTimeout(r, 5_000)); // let the components settle
    let total = 0;
    for (const p of cluster.processes) {
      const kib = rssKiB(p.pid);
      total += kib;
      console.log(`  RSS ${p.name.padEnd(24)} ${(kib / 1024).toFixed(0)} MiB`);
    }
    console.log(`  RSS total                    ${(total / 1024).toFixed(0)} MiB`);
  }
  await cluster.stop();
}
starts.sort((a, b) => a - b);
console.log(`warm start to healthy API server, Ready nodes${exporters ? ', kube-state-metrics and metrics-server' : ''}: ${starts.map((s) => s.toFixed(1)).join(', ')} s (median ${starts[Math.floor(starts.length / 2)]!.toFixed(1)} s, target < 10 s)`);

/** Time from the start of a write to its watch event arriving, over 50 updates of one ConfigMap. */
async function measureWatchLatency(cluster: LocalCluster): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'bench' }, data: { v: '0' } } });
  const waiting = new Map<string, (t: number) => void>();
  const req = await new Watch(kc).watch('/api/v1/namespaces/default/configmaps', {}, (type, obj: V1ConfigMap) => {
    const v = obj.data?.['v'];
    if (type === 'MODIFIED' && v) waiting.get(v)?.(performance.now());
  }, () => {});
  await new Promise((r) => setTimeout(r, 300));
  const latencies: number[] = [];
  for (let i = 1; i <= 50; i++) {
    const got = new Promise<number>((resolve) => waiting.set(String(i), resolve));
    const written = performance.now();
    await core.replaceNamespacedConfigMap({ name: 'bench', namespace: 'default', body: { metadata: { name: 'bench' }, data: { v: String(i) } } });
    latencies.push((await got) - written);
  }
  req.abort();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1);
  console.log(`update to watch event (from the start of the write): p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${latencies.at(-1)!.toFixed(1)} ms (50 updates)`);
}

/**
 * One pod of a Deployment requesting 100m under an HPA targeting 50% CPU, using 20m; its usage
 * annotation goes to 180m (no restart: kwok reads it live) and the clock runs until the HPA has set
 * the Deployment's replicas to the new count (4, the maximum). What it measures: metrics-server's
 * 10 s resolution, the HPA's 2 s sync period, and kwok's cumulative counter.
 */
async function measureHpaReaction(cluster: LocalCluster): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const hpas = kc.makeApiClient(AutoscalingV2Api);
  const namespace = 'default';
  const labels = { app: 'bench-hpa' };
  await apps.createNamespacedDeployment({ namespace, body: {
    metadata: { name: 'bench-hpa' },
    spec: {
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations: { [USAGE_ANNOTATIONS.cpu]: '20m' } },
        spec: { containers: [{ name: 'app', image: 'registry.example/app:1', resources: { requests: { cpu: '100m' } } }] },
      },
    },
  } });
  await hpas.createNamespacedHorizontalPodAutoscaler({ namespace, body: {
    metadata: { name: 'bench-hpa' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'bench-hpa' },
      minReplicas: 1, maxReplicas: 4,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
    },
  } });
  const until = async (check: () => Promise<boolean>, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check().catch(() => false)) return true;
      await new Promise((r) => setTimeout(r, 250));
    }
    return false;
  };
  const measured = await until(async () => {
    const h = await hpas.readNamespacedHorizontalPodAutoscaler({ name: 'bench-hpa', namespace });
    return h.status?.currentMetrics?.[0]?.resource?.current.averageUtilization !== undefined;
  }, 120_000);
  if (!measured) return void console.log('  HPA never got a CPU metric within 120 s');
  const pods = await core.listNamespacedPod({ namespace, labelSelector: 'app=bench-hpa' });
  const t = performance.now();
  for (const p of pods.items) {
    await core.patchNamespacedPod({ name: p.metadata!.name!, namespace, body: { metadata: { annotations: { [USAGE_ANNOTATIONS.cpu]: '180m' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  }
  const scaled = await until(async () => (await apps.readNamespacedDeployment({ name: 'bench-hpa', namespace })).spec?.replicas === 4, 180_000);
  console.log(scaled
    ? `usage annotation change (20m -> 180m of a 100m request) to the HPA's new replica count (1 -> 4): ${((performance.now() - t) / 1000).toFixed(1)} s`
    : '  HPA did not scale within 180 s');
}
