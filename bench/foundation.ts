/**
 * Figures of the foundation (issue 2): warm start of the local cluster to a healthy API server and
 * Ready nodes, resident memory of its processes, and (with --cold) a cold build of the binaries
 * with an empty Go build cache: wall time and peak memory.
 *
 *   node --import tsx bench/foundation.ts [--cold] [--runs N]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBinaries } from '../src/localcluster/binaries.js';
import { CoreV1Api, KubeConfig, Watch, type V1ConfigMap } from '@kubernetes/client-node';
import { startLocalCluster, type LocalCluster } from '../src/localcluster/cluster.js';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] ?? 3) || 3;

function rssKiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

if (args.includes('--cold')) {
  // A cold build: empty Go build cache (modules stay cached: they are downloads, not builds).
  const cache = mkdtempSync(join(tmpdir(), 'paved-bench-cold-'));
  const gocache = join(cache, 'gocache');
  const started = Date.now();
  const res = spawnSync('/usr/bin/time', ['-v', process.execPath, '--import', 'tsx', '-e',
    `import('${new URL('../src/localcluster/binaries.ts', import.meta.url).pathname}').then(m => m.ensureBinaries({ cacheDir: '${cache}' }))`],
  { env: { ...process.env, GOCACHE: gocache }, encoding: 'utf8' });
  const seconds = (Date.now() - started) / 1000;
  const peak = /Maximum resident set size \(kbytes\): (\d+)/.exec(res.stderr)?.[1];
  console.log(`cold build (empty GOCACHE, both binaries): ${seconds.toFixed(0)} s wall, peak RSS of one process ${(Number(peak) / 1024).toFixed(0)} MiB, exit ${res.status}`);
  rmSync(cache, { recursive: true, force: true });
}

await ensureBinaries();
const starts: number[] = [];
for (let i = 0; i < runs; i++) {
  const t = performance.now();
  const cluster = await startLocalCluster();
  starts.push((performance.now() - t) / 1000);
  if (i === runs - 1) {
    await measureWatchLatency(cluster);
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
console.log(`warm start to healthy API server and Ready nodes: ${starts.map((s) => s.toFixed(1)).join(', ')} s (median ${starts[Math.floor(starts.length / 2)]!.toFixed(1)} s, target < 10 s)`);

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
