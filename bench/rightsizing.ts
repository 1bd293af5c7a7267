/**
 * Benchmark of the rightsizing engine's Prometheus side: one engine run's queries (the five batched
 * PromQL queries of src/rightsizing/queries.ts, then the pure recommender and stability rule for every
 * workload) against a one-query-per-workload baseline (KRR's way: a CPU and a memory query per workload),
 * in the same run, on the same backfilled history.
 *
 *   node --import tsx bench/rightsizing.ts [--workloads 2000] [--days 14] [--resolution 60] [--concurrency 10] [--max-file-gb 30] [--pod-level false]
 *
 * Prints: series, samples, size and generation time of the OpenMetrics file, promtool backfill time;
 * then for the engine and for the baseline: wall time, PromQL queries sent and Prometheus' peak resident
 * memory during it (VmRSS of the Prometheus process sampled every 100 ms). The history is cAdvisor-shaped
 * (test/support/rightsizing-history.ts, without the CFS and requests series), one pod per workload for the
 * whole history, streamed to a temporary file. The cluster's writes (one server-side apply per changed
 * Recommendation) are not part of it: they are skipped when nothing changed (see docs/rightsizing.md).
 */
import { createWriteStream, readFileSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCostPrometheus, type QueryStats } from '../src/cost/prometheus.js';
import { startPrometheus, type LocalPrometheus } from '../src/localcluster/prometheus.js';
import { queryUsage, SUBQUERY_STEP } from '../src/rightsizing/queries.js';
import { recommendContainer } from '../src/rightsizing/recommend.js';
import { assessStability } from '../src/rightsizing/stability.js';
import { DEFAULT_SETTINGS } from '../src/rightsizing/types.js';
import { rightsizingHistoryChunks, type ServiceHistory } from '../test/support/rightsizing-history.js';

const GIB = 1024 ** 3;
function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}
const workloads = Number(arg('workloads', '2000'));
const days = Number(arg('days', '14'));
const resolution = Number(arg('resolution', '60'));
const concurrency = Number(arg('concurrency', '10'));
const maxFileBytes = Number(arg('max-file-gb', '30')) * 1e9;
const podLevel = arg('pod-level', 'true') !== 'false';
const out = (line: string): void => void process.stdout.write(`${line}\n`);

/** Peak VmRSS (MiB) of a process while `fn` runs. */
async function peakRss<T>(pid: number, fn: () => Promise<T>): Promise<{ result: T; peakMiB: number }> {
  let peak = 0;
  const sample = (): void => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) / 1024);
    } catch {
      // exited
    }
  };
  sample();
  const timer = setInterval(sample, 100);
  try {
    return { result: await fn(), peakMiB: Math.round(peak) };
  } finally {
    clearInterval(timer);
    sample();
  }
}

function services(): ServiceHistory[] {
  return Array.from({ length: workloads }, (_, i) => ({
    namespace: `team-${i % 200}-prod`,
    service: `svc-${i}`,
    cpu: (h: number) => 0.05 + (i % 10) * 0.02 + 0.01 * Math.sin((2 * Math.PI * (h % 24)) / 24),
    memory: () => (0.1 + (i % 7) * 0.05) * GIB,
    cpuRequest: 1,
    memoryRequest: GIB,
    memoryLimit: GIB,
    days,
    podDays: days + 1,
    extras: false,
    podLevel,
  }));
}

/** KRR's way: per workload, its own CPU percentile and memory maximum queries. */
function baselineQueries(s: ServiceHistory): string[] {
  const sel = `namespace="${s.namespace}",pod=~"${s.service}-.*",container!="",container!="POD"`;
  return [
    `quantile_over_time(0.95, max(rate(container_cpu_usage_seconds_total{${sel}}[5m]))[${days}d:${SUBQUERY_STEP}])`,
    `max_over_time(max(container_memory_working_set_bytes{${sel}})[${days}d:${SUBQUERY_STEP}])`,
  ];
}

const end = Math.floor(Date.now() / 60_000) * 60 - 60;
const list = services();
const file = join(tmpdir(), `paved-bench-rightsizing-${process.pid}.om`);
const perSeries = (days * 86_400) / resolution;
const seriesPerPod = podLevel ? 6 : 4; // cpu, memory (and their pod-level twins), kube_pod_labels, limits
const estimate = workloads * seriesPerPod * perSeries * 200; // ~200 bytes a line
out(`rightsizing benchmark: ${workloads} workloads, ${days} days at ${resolution} s${podLevel ? '' : ', no pod-level series'} (${workloads * seriesPerPod} series, ${((workloads * seriesPerPod * perSeries) / 1e6).toFixed(1)} M samples, ~${(estimate / 1e9).toFixed(1)} GB of text)`);
if (estimate > maxFileBytes) {
  out(`estimated file larger than --max-file-gb ${maxFileBytes / 1e9}: stopping`);
  process.exit(2);
}
let prom: LocalPrometheus | undefined;
try {
  const g0 = Date.now();
  const stream = createWriteStream(file, { highWaterMark: 4 * 1024 * 1024 });
  for (const chunk of rightsizingHistoryChunks(list, { endSeconds: end, resolutionSeconds: resolution })) {
    if (!stream.write(chunk)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'close');
  out(`  history: ${(statSync(file).size / 1e9).toFixed(2)} GB written in ${((Date.now() - g0) / 1000).toFixed(0)} s`);
  const b0 = Date.now();
  prom = await startPrometheus({ backfillFile: file, readyTimeoutMs: 1_800_000, onProgress: (l) => out(`  ${l}`) });
  out(`  promtool backfill and Prometheus start: ${((Date.now() - b0) / 1000).toFixed(0)} s`);
  rmSync(file, { force: true });
  const pid = prom.process.pid;
  const settings = { ...DEFAULT_SETTINGS, recommend: { ...DEFAULT_SETTINGS.recommend, windowDays: days } };

  // The engine: five queries for the cluster, then the pure rules per workload.
  const engineStats: QueryStats = { sent: 0 };
  const engineProm = createCostPrometheus({ url: prom.url, timeoutMs: 600_000, stats: engineStats });
  const e0 = process.hrtime.bigint();
  const engine = await peakRss(pid, async () => {
    const usage = await queryUsage(engineProm, settings, new Date(end * 1000));
    let recommended = 0;
    for (const u of usage.values()) {
      const r = recommendContainer(settings.recommend, { usage: u, runtime: 'go', bounds: {}, cpuHpa: false });
      if (r.kind === 'recommended') {
        assessStability(settings.stability, { ...(r.cpu !== undefined ? { cpu: r.cpu } : {}), memory: r.memory }, { cpu: 1, memory: GIB }, r.daily);
        recommended += 1;
      }
    }
    return { containers: usage.size, recommended };
  });
  const engineSeconds = Number(process.hrtime.bigint() - e0) / 1e9;
  out(`  engine run:  ${engineSeconds.toFixed(1)} s, ${engineStats.sent} queries, ${engine.result.containers} containers read, ${engine.result.recommended} recommended; Prometheus peak RSS ${engine.peakMiB} MiB`);

  // The baseline: one query set per workload, `concurrency` at a time (KRR's default pool is 10).
  const baseStats: QueryStats = { sent: 0 };
  const baseProm = createCostPrometheus({ url: prom.url, timeoutMs: 600_000, stats: baseStats });
  const b1 = process.hrtime.bigint();
  const baseline = await peakRss(pid, async () => {
    const queue = list.flatMap(baselineQueries);
    let failed = 0;
    const worker = async (): Promise<void> => {
      for (let qy = queue.shift(); qy !== undefined; qy = queue.shift()) {
        await baseProm.instantQuery(qy, end).catch(() => void (failed += 1));
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { failed };
  });
  const baseSeconds = Number(process.hrtime.bigint() - b1) / 1e9;
  out(`  baseline:    ${baseSeconds.toFixed(1)} s, ${baseStats.sent} queries (${baseline.result.failed} failed); Prometheus peak RSS ${baseline.peakMiB} MiB`);
  out(`  ratio: ${(baseStats.sent / Math.max(1, engineStats.sent)).toFixed(0)}x fewer queries, ${(baseSeconds / engineSeconds).toFixed(1)}x less wall time`);
} finally {
  rmSync(file, { force: true });
  await prom?.stop();
}
