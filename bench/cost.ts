/**
 * Benchmark of the cost API: the all-teams endpoint over backfilled history of many teams.
 *
 *   node --import tsx bench/cost.ts [--teams 200] [--services 2000] [--days 3] [--resolution 300]
 *                                   [--window 3d] [--step 1d] [--iterations 20] [--max-file-gb 15]
 *                                   [--query-max-samples 50000000] [--query-timeout 2m]
 *
 * Prints: series and samples, size and generation time of the OpenMetrics file, promtool backfill
 * time, Prometheus start time, whether Prometheus' first compaction pass ran before the measurements,
 * p50/p99 latency of GET /cost/teams cold (cache cleared before every request) and cached, PromQL
 * queries per request, and the memory of this process (RSS, heap) and of Prometheus: first from the raw
 * exporter series, then, in the same run on the same data, from the recorded series of paved's cost
 * recording rules (src/monitoring/rules.ts: per service, then per team from those), backfilled over
 * the whole history after the raw figures (the per-team rules once the per-service series are in):
 * the per-service series alone, then what the endpoint reads by default (the per-team series).
 *
 * The history is streamed to temporary files, one per block range of promtool (486 h, aligned to
 * multiples of it since the epoch), each written when promtool is ready for it and deleted after
 * (`startPrometheus({ backfillFiles })`): promtool reads each file twice (its time-range pass, then its
 * one block), where one file of 30 days cost one pass more per block (three or four over ~16 GB). The
 * recorded series are backfilled after the raw figures, from query_range in parts of a week
 * (Prometheus' 2-minute query timeout) streamed to one file (30 days of them exceed one string).
 * The issue's scale is `--days 30 --window 30d --step 1d --resolution 300` (200 teams, 2,000
 * services: 16,200 series, 140 M samples, about 16 GB of text). `--max-file-gb` (default 15) stops
 * before generating when the largest file (at most one block range) is estimated larger than that
 * (estimated from the text of the first hour). The figures printed always say which scale they are for.
 *
 * `--query-max-samples` and `--query-timeout` are Prometheus' own limits (its defaults): at 30 days of
 * 200 teams x 2,000 services a default Prometheus refuses the raw all-teams query ("would load too many
 * samples into memory"), which the bench prints as the raw figure before measuring the recorded series;
 * raise them to measure the raw queries anyway.
 */
import { createWriteStream, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { benchArgs } from './args.js';
import { createCostRoutes } from '../src/cost/routes.js';
import { createCostService } from '../src/cost/service.js';
import { createCostPrometheus, withCache, type QueryStats } from '../src/cost/prometheus.js';
import { staticTeamDirectory } from '../src/cost/teams.js';
import { BACKFILL_BLOCK_SECONDS, startPrometheus } from '../src/localcluster/prometheus.js';
import { RECORDING_INTERVAL_SECONDS } from '../src/cost/queries.js';
import { renderRuleGroups, type RecordingRule } from '../src/monitoring/rules.js';
import type { ApiEnv, Caller } from '../src/access/index.js';
import { costHistoryOpenMetricsChunks, type CostHistory, type ContainerShape, type SampleRange } from '../test/support/cost-history.js';
import { compactionState, settleCompaction } from './prometheus-tsdb.js';

const GIB = 1024 ** 3;
const HOUR = 3600;

const flags = benchArgs({
  teams: 200, services: 2000, days: 3, resolution: 300, window: '', step: '1d', iterations: 20, 'max-file-gb': 15,
  // Prometheus' own defaults; 30 days of raw all-teams queries need more samples than 50 M (below).
  'query-max-samples': 50_000_000, 'query-timeout': '2m',
});
const { teams, services, days, step, iterations } = flags;
const resolution = flags.resolution; // at most 300: the model prorates in 5-minute steps
const window = flags.window || `${days}d`;
const maxFileBytes = flags['max-file-gb'] * 1e9;

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Many teams, services spread evenly, one pod per service; shapes vary by index. */
function benchHistory(): CostHistory {
  const end = Math.floor(Date.now() / 1000 / 86_400) * 86_400; // today's UTC midnight
  const hours = days * 24;
  const containers: ContainerShape[] = [];
  for (let s = 0; s < services; s++) {
    const t = s % teams;
    const team = `t${String(t).padStart(3, '0')}`;
    const req = 0.25 + (s % 8) * 0.25;
    const share = 0.05 + ((s * 37) % 90) / 100;
    containers.push({
      team,
      environment: 'prod',
      namespace: team,
      service: `s${s}`,
      pod: `s${s}-0`,
      container: 'app',
      cpuRequest: () => req,
      cpuUsage: (h) => req * share * (1 + 0.2 * Math.sin((2 * Math.PI * (h % 24)) / 24)),
      memoryRequest: () => req * 2 * GIB,
      memoryUsage: () => req * share * 2 * GIB,
    });
  }
  return {
    startSeconds: end - hours * HOUR,
    hours,
    resolutionSeconds: resolution,
    namespaces: Array.from({ length: teams }, (_, t) => {
      const team = `t${String(t).padStart(3, '0')}`;
      return { namespace: team, team, environment: 'prod' };
    }),
    containers,
    pvcs: [],
    rollouts: [],
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

const seconds = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/** Bytes per sample line, from the text of the history's first hour (same series, same shapes). */
function bytesPerSampleLine(history: CostHistory): number {
  let bytes = 0;
  let lines = 0;
  for (const chunk of costHistoryOpenMetricsChunks(history, { from: history.startSeconds, until: history.startSeconds + HOUR })) {
    if (chunk.startsWith('#')) continue;
    bytes += Buffer.byteLength(chunk);
    for (let i = chunk.indexOf('\n'); i >= 0; i = chunk.indexOf('\n', i + 1)) lines++;
  }
  return lines > 0 ? bytes / lines : 0;
}

/** Streams the OpenMetrics text of the samples of `range` to `file` (with backpressure). Returns bytes and sample lines. */
async function writeHistory(history: CostHistory, range: SampleRange, file: string): Promise<{ bytes: number; samples: number }> {
  const stream = createWriteStream(file, { highWaterMark: 4 * 1024 * 1024 });
  let bytes = 0;
  let samples = 0;
  try {
    for (const chunk of costHistoryOpenMetricsChunks(history, range)) {
      bytes += Buffer.byteLength(chunk);
      if (!chunk.startsWith('#')) for (let i = chunk.indexOf('\n'); i >= 0; i = chunk.indexOf('\n', i + 1)) samples++;
      if (!stream.write(chunk)) await once(stream, 'drain');
    }
  } finally {
    stream.end();
    await once(stream, 'close');
  }
  return { bytes, samples };
}

/** What writing the history in block ranges cost, filled in while promtool reads the files. */
interface Generation {
  files: number;
  bytes: number;
  samples: number;
  largestFileBytes: number;
  seconds: number;
}

/**
 * The history as one OpenMetrics file per block range of promtool (BACKFILL_BLOCK_SECONDS, aligned to
 * multiples of it), so promtool reads each sample twice in all (its time-range pass and its block
 * pass) instead of once more per block. Each file is written when promtool asks for it and deleted when
 * it asks for the next (or the run ends), so at most one is on disk.
 */
async function* historyFiles(history: CostHistory, stem: string, generation: Generation): AsyncGenerator<string> {
  const start = history.startSeconds;
  const end = start + history.hours * HOUR;
  for (let from = start - (start % BACKFILL_BLOCK_SECONDS); from < end; from += BACKFILL_BLOCK_SECONDS) {
    const range = { from: Math.max(start, from), until: Math.min(end, from + BACKFILL_BLOCK_SECONDS) };
    const file = `${stem}-${generation.files}.om`;
    const t = Date.now();
    const written = await writeHistory(history, range, file);
    generation.seconds += (Date.now() - t) / 1000;
    generation.files++;
    generation.bytes += written.bytes;
    generation.samples += written.samples;
    generation.largestFileBytes = Math.max(generation.largestFileBytes, written.bytes);
    out(
      `  file ${generation.files}: ${new Date(range.from * 1000).toISOString()} .. ${new Date(range.until * 1000).toISOString()}, ` +
        `${(written.bytes / 1e9).toFixed(2)} GB, ${written.samples} samples, written in ${((Date.now() - t) / 1000).toFixed(1)} s`,
    );
    try {
      yield file;
    } finally {
      rmSync(file, { force: true });
    }
  }
}

interface Figures {
  costSource: string;
  /** With the recorded series: which ones answered (team or service). */
  recordedLevel: string | null;
  firstMs: number;
  coldP50Ms: number;
  coldP99Ms: number;
  cachedP50Ms: number;
  cachedP99Ms: number;
  queriesPerRequestCold: number;
  queriesPerRequestCached: number;
}

/**
 * Cold and cached latency of `path` with a cost service reading `source` ('auto': the recorded series
 * when present, per team where they cover the window; 'service': the per-service recorded series).
 */
async function measure(url: string, path: string, source: 'raw' | 'service' | 'auto', now: () => Date): Promise<Figures> {
  const stats: QueryStats = { sent: 0 };
  const cached = withCache(createCostPrometheus({ url, stats, timeoutMs: 900_000 }), { maxEntries: 500, ttlMs: 3_600_000 });
  const cost = createCostService({ prometheus: cached, teams: staticTeamDirectory([]), now, costSource: source });
  const finance: Caller = { subject: 'bench', groups: [], teams: [], isPlatformAdmin: false, isFinance: true };
  const app = new Hono<ApiEnv>();
  app.use('*', async (c, next) => {
    c.set('caller', finance);
    await next();
  });
  app.route('/', createCostRoutes({ cost }));

  let costSource = '';
  let recordedLevel: string | null = null;
  const request = async (): Promise<{ ms: number; queries: number; teams: number }> => {
    const before = stats.sent;
    const start = process.hrtime.bigint();
    const res = await app.request(path);
    const body = (await res.json()) as { teams?: unknown[]; message?: string; costSource?: string; recordedLevel?: string | null };
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${body.message}`);
    costSource = body.costSource ?? '?';
    recordedLevel = body.recordedLevel ?? null;
    return { ms, queries: stats.sent - before, teams: body.teams?.length ?? 0 };
  };

  const warm = await request(); // first touch of the blocks (page cache), not counted
  // Which series answered: raw, or recorded per team / per service.
  const answered = (): string => (recordedLevel === null ? costSource : `${costSource} (${recordedLevel} series)`);
  out(`[${source}] first request: ${warm.ms.toFixed(0)} ms, ${warm.queries} PromQL queries, ${warm.teams} teams in the answer, costSource ${answered()}`);
  const cold: number[] = [];
  const queries: number[] = [];
  for (let i = 0; i < iterations; i++) {
    cached.cache.clear();
    const r = await request();
    cold.push(r.ms);
    queries.push(r.queries);
  }
  const hot: number[] = [];
  const hotQueries: number[] = [];
  for (let i = 0; i < iterations * 5; i++) {
    const r = await request();
    hot.push(r.ms);
    hotQueries.push(r.queries);
  }
  cold.sort((a, b) => a - b);
  hot.sort((a, b) => a - b);
  const mem = process.memoryUsage();
  out(`GET ${path} (costSource ${answered()})`);
  out(`  cold   (cache cleared, n=${cold.length}): p50 ${percentile(cold, 50).toFixed(1)} ms, p99 ${percentile(cold, 99).toFixed(1)} ms, PromQL queries/request ${Math.max(...queries)}`);
  out(`  cached (n=${hot.length}): p50 ${percentile(hot, 50).toFixed(2)} ms, p99 ${percentile(hot, 99).toFixed(2)} ms, PromQL queries/request ${Math.max(...hotQueries)}`);
  out(`  memory: rss ${(mem.rss / 1024 / 1024).toFixed(0)} MB, heap used ${(mem.heapUsed / 1024 / 1024).toFixed(0)} MB (the benchmark process: cost service, cache, HTTP handler)`);
  return {
    costSource,
    recordedLevel,
    firstMs: warm.ms,
    coldP50Ms: percentile(cold, 50),
    coldP99Ms: percentile(cold, 99),
    cachedP50Ms: percentile(hot, 50),
    cachedP99Ms: percentile(hot, 99),
    queriesPerRequestCold: Math.max(...queries),
    queriesPerRequestCached: Math.max(...hotQueries),
  };
}

async function main(): Promise<void> {
  const history = benchHistory();
  // cpu, memory, 2 requests, container running, 2 pod phases, pod labels; namespace labels
  const series = history.containers.length * 8 + history.namespaces.length;
  const samples = series * history.hours * (HOUR / resolution);
  out(`scale: ${teams} teams, ${services} services, ${days} days at ${resolution}s samples: ${series} series, ${(samples / 1e6).toFixed(2)} M samples`);
  const stem = join(tmpdir(), `paved-bench-cost-${process.pid}`);
  let prom: Awaited<ReturnType<typeof startPrometheus>> | undefined;
  try {
    const estimate = bytesPerSampleLine(history) * samples;
    const atOnce = Math.min(estimate, (BACKFILL_BLOCK_SECONDS / HOUR / history.hours) * estimate);
    out(`  estimated text ${(estimate / 1e9).toFixed(2)} GB in all (from the first hour), at most ${(atOnce / 1e9).toFixed(2)} GB on disk at once`);
    if (atOnce > maxFileBytes) {
      out(`  more than --max-file-gb ${maxFileBytes / 1e9}: not generating it`);
      process.exitCode = 2;
      return;
    }
    const generation: Generation = { files: 0, bytes: 0, samples: 0, largestFileBytes: 0, seconds: 0 };
    let t = Date.now();
    prom = await startPrometheus({
      backfillFiles: historyFiles(history, stem, generation),
      readyTimeoutMs: 900_000,
      queryLimits: { maxSamples: flags['query-max-samples'], timeout: flags['query-timeout'] },
    });
    out(`Prometheus --query.max-samples=${flags['query-max-samples']} --query.timeout=${flags['query-timeout']}`);
    const ready = Date.now();
    // startPrometheus writes prometheus.yml right after promtool finished and before starting Prometheus.
    const configWritten = statSync(join(prom.dir, 'prometheus.yml')).mtimeMs;
    const generationSeconds = generation.seconds;
    const fileBytes = generation.bytes;
    const backfillSeconds = (configWritten - t) / 1000 - generationSeconds;
    const startSeconds = (ready - configWritten) / 1000;
    out(
      `generated ${(fileBytes / 1e9).toFixed(2)} GB (${generation.samples} sample lines) of OpenMetrics in ${generation.files} files (one per block range) in ${generationSeconds.toFixed(1)} s; ` +
        `promtool backfill ${backfillSeconds.toFixed(1)} s, Prometheus start (until ready) ${startSeconds.toFixed(1)} s; files deleted`,
    );
    t = Date.now();
    const before = await compactionState(prom.url);
    const compaction = await settleCompaction(prom.url);
    out(
      `waited ${seconds(t)} for Prometheus' first compaction pass: ${before.blocks} -> ${compaction.blocks} blocks loaded, ` +
        `${compaction.compactions} compactions, ${compaction.triggered} passes triggered; the figures below are after it`,
    );
    const endSeconds = history.startSeconds + history.hours * HOUR;
    const now = () => new Date(endSeconds * 1000 + 60_000);
    const path = `/cost/teams?window=${window}&step=${step}`;
    // A refusal of the raw queries (e.g. more samples than --query.max-samples) is a figure too: the
    // recorded series are then measured all the same.
    const raw = await measure(prom.url, path, 'raw', now).catch((err: unknown) => {
      const error = err instanceof Error ? err.message : String(err);
      out(`[raw] refused: ${error}`);
      return { error };
    });
    t = Date.now();
    const rules = renderRuleGroups()
      .filter((g) => g.name === 'paved-cost-hourly')
      .flatMap((g) => g.rules)
      .filter((r): r is RecordingRule => 'record' in r);
    // What the rules would have recorded: each hour's figures, 5 minutes after the hour.
    const recordedSamples = await prom.backfillRecordingRules(rules, {
      start: history.startSeconds + HOUR + RECORDING_INTERVAL_SECONDS,
      end: endSeconds + RECORDING_INTERVAL_SECONDS,
      step: HOUR,
    });
    const recordingSeconds = (Date.now() - t) / 1000;
    out(`recording rules backfilled over the history: ${recordedSamples} samples of ${rules.length} series names in ${seconds(t)}`);
    // The per-service series first (what the all-teams report read before the per-team rules), then
    // what it reads now.
    const recordedByService = await measure(prom.url, path, 'service', now);
    const recorded = await measure(prom.url, path, 'auto', now);
    const after = await compactionState(prom.url);
    out(`  Prometheus rss ${after.prometheusRssMB} MB`);
    if (after.compactions !== compaction.compactions || after.blocks !== compaction.blocks) {
      out(`  note: Prometheus compacted during the measurements (${compaction.blocks} -> ${after.blocks} blocks)`);
    }
    out(
      JSON.stringify({
        bench: 'cost',
        teams,
        services,
        days,
        resolutionSeconds: resolution,
        series,
        samplesMillions: Number((samples / 1e6).toFixed(2)),
        fileGB: Number((fileBytes / 1e9).toFixed(2)),
        files: generation.files,
        largestFileGB: Number((generation.largestFileBytes / 1e9).toFixed(2)),
        generationSeconds,
        backfillSeconds,
        prometheusStartSeconds: startSeconds,
        blocksLoaded: after.blocks,
        window,
        step,
        raw,
        recordedByService,
        recorded,
        recordingSeconds,
        recordedSamples,
        rssMB: Math.round(process.memoryUsage().rss / 1024 / 1024),
        prometheusRssMB: after.prometheusRssMB,
      }),
    );
  } finally {
    await prom?.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
