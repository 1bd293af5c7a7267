/**
 * Benchmark of the rightsizing engine's Prometheus side: one engine run's queries (the five batched
 * PromQL queries of src/rightsizing/queries.ts, then the pure recommender and stability rule for every
 * workload) against a one-query-per-workload baseline (KRR's way: a CPU and a memory query per workload),
 * in the same run, on the same backfilled history.
 *
 *   node --import tsx bench/rightsizing.ts [--workloads 2000] [--days 14] [--resolution 60] [--concurrency 10]
 *     [--batch 200] [--promtools 2] [--rate-window 300s] [--without-pod-level] [--budget SECONDS]
 *
 * Prints: series, samples and size of the OpenMetrics text, the backfill's wall time (generation and
 * promtool side by side), the vertical compaction of the batches' blocks; then for the engine and for the
 * baseline: wall time, PromQL queries sent and Prometheus' peak resident memory during it (VmRSS of the
 * Prometheus process sampled every 100 ms); then how many workloads got a recommendation from each and
 * how many of the engine's equal the baseline's within 2% (CPU and memory). The history is cAdvisor-shaped
 * (test/support/rightsizing-history.ts, without the CFS and requests series), one pod per workload for the
 * whole history, streamed to temporary files of `--batch` workloads each, backfilled by `--promtools`
 * promtool processes at once (promtool keeps about one core busy: on 2 cores two files take about the
 * time of one), the next written while they run, each deleted once backfilled. The rate window defaults to four times
 * the resolution (at least 5m): a rate needs two samples in its range. The cluster's writes (one
 * server-side apply per changed Recommendation) are not part of it: they are skipped when nothing changed
 * (see docs/rightsizing.md). With --budget, a backfill that the batches so far project past that many
 * seconds (from the workloads backfilled, or asked for less those still running) stops before the
 * next batch (and cleans up), printing the projection.
 */
import { createWriteStream, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCostPrometheus, type QueryStats } from '../src/cost/prometheus.js';
import { benchArgs } from './args.js';
import { waitForBlocks } from './prometheus-tsdb.js';
import { BACKFILL_BLOCK_SECONDS, startPrometheus, type LocalPrometheus } from '../src/localcluster/prometheus.js';
import { queryUsage, SUBQUERY_STEP } from '../src/rightsizing/queries.js';
import { recommendContainer } from '../src/rightsizing/recommend.js';
import { assessStability } from '../src/rightsizing/stability.js';
import { DEFAULT_SETTINGS } from '../src/rightsizing/types.js';
import { rightsizingHistoryChunks, type ServiceHistory } from '../test/support/rightsizing-history.js';

const GIB = 1024 ** 3;
const flags = benchArgs({ workloads: 2000, days: 14, resolution: 60, concurrency: 10, batch: 200, promtools: 2, 'rate-window': '', 'without-pod-level': false, budget: 0 });
const { workloads, days, resolution, concurrency, batch, promtools } = flags;
const podLevel = !flags['without-pod-level'];
const rateWindow = flags['rate-window'] || `${Math.max(300, 4 * resolution)}s`;
const t0 = Date.now();
const out = (line: string): void => void process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(5)} s] ${line}\n`);

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
function baselineQueries(s: ServiceHistory): Array<{ key: string; resource: 'cpu' | 'memory'; query: string }> {
  const sel = `namespace="${s.namespace}",pod=~"${s.service}-.*",container!="",container!="POD"`;
  const key = `${s.namespace}/${s.service}/app`;
  return [
    { key, resource: 'cpu', query: `quantile_over_time(0.95, max(rate(container_cpu_usage_seconds_total{${sel}}[${rateWindow}]))[${days}d:${SUBQUERY_STEP}])` },
    { key, resource: 'memory', query: `max_over_time(max(container_memory_working_set_bytes{${sel}})[${days}d:${SUBQUERY_STEP}])` },
  ];
}

/** The baseline's recommendation from its two values: KRR's formula with the engine's margins and Go floors, rounded up. */
function baselineRecommendation(v: { cpu?: number; memory?: number }): { cpu?: number; memory?: number } {
  const p = DEFAULT_SETTINGS.recommend;
  const f = p.floors['go']!;
  return {
    ...(v.cpu !== undefined ? { cpu: Math.ceil(Math.max(v.cpu * (1 + p.cpuMargin), f.cpu) * 1000 - 1e-9) / 1000 } : {}),
    ...(v.memory !== undefined ? { memory: Math.ceil(Math.max(v.memory * (1 + p.memoryMargin), f.memory) / 2 ** 20 - 1e-9) * 2 ** 20 } : {}),
  };
}

const within = (a: number | undefined, b: number | undefined): boolean => a !== undefined && b !== undefined && Math.abs(a - b) <= 0.02 * Math.max(a, b);

/** The batches' history files: each written when fewer than `--promtools` are being backfilled (see `backfilled`). */
async function* historyFiles(list: readonly ServiceHistory[], end: number): AsyncGenerator<string> {
  for (let i = 0; i < list.length; i += batch) {
    const elapsed = (Date.now() - t0) / 1000;
    const done = Math.max(backfilled.workloads, i - (promtools - 1) * batch);
    const projected = done > 0 ? (elapsed * list.length) / done : 0;
    if (flags.budget > 0 && projected > flags.budget) {
      throw new Error(`stopping: ${i} of ${list.length} workloads backfilled in ${elapsed.toFixed(0)} s project ${projected.toFixed(0)} s for the history, over --budget ${flags.budget}`);
    }
    const file = join(tmpdir(), `paved-bench-rightsizing-${process.pid}-${i}.om`);
    files.add(file);
    batchOf.set(file, Math.min(batch, list.length - i));
    const g0 = Date.now();
    const stream = createWriteStream(file, { highWaterMark: 4 * 1024 * 1024 });
    for (const chunk of rightsizingHistoryChunks(list.slice(i, i + batch), { endSeconds: end, resolutionSeconds: resolution })) {
      if (!stream.write(chunk)) await once(stream, 'drain');
    }
    stream.end();
    await once(stream, 'close');
    const size = statSync(file).size;
    bytes += size;
    out(`  batch ${i / batch + 1}/${Math.ceil(list.length / batch)}: ${(size / 1e9).toFixed(2)} GB written in ${((Date.now() - g0) / 1000).toFixed(0)} s`);
    yield file;
  }
}
const files = new Set<string>();
const batchOf = new Map<string, number>();
let bytes = 0;
/** A file promtool has written the blocks of: deleted, its workloads counted. */
const backfilled = {
  workloads: 0,
  done(file: string): void {
    rmSync(file, { force: true });
    files.delete(file);
    this.workloads += batchOf.get(file) ?? 0;
    out(`  backfilled ${this.workloads} of ${workloads} workloads`);
  },
};

/** The distinct time ranges of the data directory's blocks (what vertical compaction merges them into). */
function blockRanges(dataDir: string): number {
  const ranges = new Set<string>();
  for (const d of readdirSync(dataDir)) {
    try {
      const meta = JSON.parse(readFileSync(join(dataDir, d, 'meta.json'), 'utf8')) as { minTime: number; maxTime: number };
      ranges.add(`${meta.minTime}-${meta.maxTime}`);
    } catch {
      // not a block
    }
  }
  return ranges.size;
}

// promtool reads its whole input once for the time range and once per block it writes (486 h, aligned to
// the epoch): a history that crosses a block boundary costs a third pass, so it ends just before the
// last boundary when it would cross one (the engine's clock is the run's instant, `end`).
const BLOCK = BACKFILL_BLOCK_SECONDS;
const now = Math.floor(Date.now() / 60_000) * 60 - 60;
const end = Math.floor((now - days * 86_400) / BLOCK) === Math.floor(now / BLOCK) ? now : Math.floor(now / BLOCK) * BLOCK - 60;
const list = services();
const perSeries = (days * 86_400) / resolution;
const seriesPerPod = podLevel ? 6 : 4; // cpu, memory (and their pod-level twins), kube_pod_labels, limits
out(`rightsizing benchmark: ${workloads} workloads, ${days} days at ${resolution} s ending ${new Date(end * 1000).toISOString()}, rate window ${rateWindow}${podLevel ? '' : ', no pod-level series'} (${workloads * seriesPerPod} series, ${((workloads * seriesPerPod * perSeries) / 1e6).toFixed(1)} M samples), batches of ${batch} workloads, ${promtools} promtool process(es) at once`);
let prom: LocalPrometheus | undefined;
// Stopped from outside (a time limit): the history files and Prometheus go too.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    out(`  ${signal}: cleaning up`);
    for (const f of files) rmSync(f, { force: true });
    void (prom?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}
try {
  const b0 = Date.now();
  prom = await startPrometheus({
    backfillFiles: historyFiles(list, end),
    backfillConcurrency: promtools,
    onBackfilled: (f) => backfilled.done(f),
    readyTimeoutMs: 1_800_000,
    onProgress: (l) => out(`  ${l}`),
  });
  const dataDir = join(prom.dir, 'data');
  out(`  history: ${(bytes / 1e9).toFixed(2)} GB of OpenMetrics text in ${batchOf.size} files; generation + promtool backfill + Prometheus start: ${((Date.now() - b0) / 1000).toFixed(0)} s`);
  const pid = prom.process.pid;
  const url = prom.url;

  // The batches' blocks overlap in time: wait for Prometheus to merge them, as it would have long before a real run.
  const ranges = blockRanges(dataDir);
  const c0 = Date.now();
  const compaction = await peakRss(pid, () => waitForBlocks(url, ranges, 3_600_000));
  out(`  vertical compaction to ${compaction.result.blocks} block(s): ${((Date.now() - c0) / 1000).toFixed(0)} s (${compaction.result.compactions} compactions); Prometheus peak RSS ${compaction.peakMiB} MiB`);
  const settings = { ...DEFAULT_SETTINGS, rateWindow, recommend: { ...DEFAULT_SETTINGS.recommend, windowDays: days } };

  // The engine: five queries for the cluster, then the pure rules per workload.
  const engineStats: QueryStats = { sent: 0 };
  const engineProm = createCostPrometheus({ url, timeoutMs: 600_000, stats: engineStats });
  const recommendedBy = new Map<string, { cpu?: number; memory?: number }>();
  const e0 = process.hrtime.bigint();
  const engine = await peakRss(pid, async () => {
    const q0 = process.hrtime.bigint();
    const usage = await queryUsage(engineProm, settings, new Date(end * 1000));
    const querySeconds = Number(process.hrtime.bigint() - q0) / 1e9;
    const insufficient = new Map<string, number>();
    for (const [key, u] of usage) {
      const r = recommendContainer(settings.recommend, { usage: u, runtime: 'go', bounds: {}, cpuHpa: false });
      if (r.kind === 'recommended') {
        assessStability(settings.stability, { ...(r.cpu !== undefined ? { cpu: r.cpu } : {}), memory: r.memory }, { cpu: 1, memory: GIB }, r.daily);
        recommendedBy.set(key, { ...(r.cpu !== undefined ? { cpu: r.cpu } : {}), memory: r.memory });
      } else {
        const why = `${r.daysOfData} of ${r.daysNeeded} days${r.resource ? ` (${r.resource})` : ''}`;
        insufficient.set(why, (insufficient.get(why) ?? 0) + 1);
      }
    }
    return { containers: usage.size, querySeconds, insufficient };
  });
  const engineSeconds = Number(process.hrtime.bigint() - e0) / 1e9;
  out(`  engine run:  ${engineSeconds.toFixed(1)} s (queries ${engine.result.querySeconds.toFixed(1)} s), ${engineStats.sent} queries, ${engine.result.containers} containers read, ${recommendedBy.size} recommended; Prometheus peak RSS ${engine.peakMiB} MiB`);
  for (const [why, n] of engine.result.insufficient) out(`    not recommended: ${n} with ${why}`);

  // The baseline: one query set per workload, `concurrency` at a time (KRR's default pool is 10).
  const baseStats: QueryStats = { sent: 0 };
  const baseProm = createCostPrometheus({ url, timeoutMs: 600_000, stats: baseStats });
  const baselineBy = new Map<string, { cpu?: number; memory?: number }>();
  const b1 = process.hrtime.bigint();
  const baseline = await peakRss(pid, async () => {
    const queue = list.flatMap(baselineQueries);
    let failed = 0;
    const worker = async (): Promise<void> => {
      for (let qy = queue.shift(); qy !== undefined; qy = queue.shift()) {
        const { key, resource, query } = qy;
        const v = await baseProm.instantQuery(query, end).then((r) => r[0]?.points.at(-1)?.[1], () => void (failed += 1));
        if (v !== undefined && Number.isFinite(v)) baselineBy.set(key, { ...baselineBy.get(key), [resource]: v });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { failed };
  });
  const baseSeconds = Number(process.hrtime.bigint() - b1) / 1e9;
  const baseRecs = new Map([...baselineBy].map(([k, v]) => [k, baselineRecommendation(v)]));
  out(`  baseline:    ${baseSeconds.toFixed(1)} s, ${baseStats.sent} queries (${baseline.result.failed} failed), ${[...baseRecs.values()].filter((r) => r.cpu !== undefined && r.memory !== undefined).length} recommended; Prometheus peak RSS ${baseline.peakMiB} MiB`);
  out(`  ratio: ${(baseStats.sent / Math.max(1, engineStats.sent)).toFixed(0)}x fewer queries, ${(baseSeconds / engineSeconds).toFixed(1)}x less wall time`);

  // The engine's recommendations against the baseline's, workload by workload.
  let matched = 0;
  const mismatches: string[] = [];
  for (const s of list) {
    const key = `${s.namespace}/${s.service}/app`;
    const e = recommendedBy.get(key);
    const b = baseRecs.get(key);
    if (e && b && within(e.cpu, b.cpu) && within(e.memory, b.memory)) matched += 1;
    else if (mismatches.length < 5) mismatches.push(`${key}: engine ${JSON.stringify(e)} baseline ${JSON.stringify(b)}`);
  }
  out(`  engine = baseline within 2% (CPU and memory): ${matched} of ${list.length} workloads`);
  for (const m of mismatches) out(`    differs: ${m}`);
  if (matched !== list.length) process.exitCode = 1;
} finally {
  for (const f of files) rmSync(f, { force: true });
  await prom?.stop();
}
