/**
 * Benchmark of the cost API: the all-teams endpoint over backfilled history of many teams.
 *
 *   node --import tsx bench/cost.ts [--teams 200] [--services 2000] [--days 3] [--resolution 300]
 *                                   [--window 3d] [--step 1d] [--iterations 20] [--max-file-gb 15]
 *
 * Prints: series and samples, size and generation time of the OpenMetrics file, promtool backfill
 * time, Prometheus start time, whether Prometheus' first compaction pass ran before the measurements,
 * p50/p99 latency of GET /cost/teams cold (cache cleared before every request) and cached, PromQL
 * queries per request, and the memory of this process (RSS, heap) and of Prometheus: first from the raw
 * exporter series, then, in the same run on the same data, from the recorded series of paved's cost
 * recording rules (src/monitoring/rules.ts), backfilled over the whole history after the raw figures.
 *
 * The history is streamed to a temporary file (never one string) and backfilled from it with
 * `startPrometheus({ backfillFile })`; the file is deleted afterwards. (promtool's
 * `--max-block-duration=744h` gives 486-hour blocks, the largest of its 2h x 3^n ranges under it, so 30 days
 * make three blocks and three passes over the file.) The issue's scale is `--days 30 --window 30d --step 1d --resolution 300`
 * (200 teams, 2,000 services: 10,200 series, 88 M samples, about 10 GB of text). `--max-file-gb`
 * (default 15) stops before generating a file estimated larger than that. The figures printed always
 * say which scale they are for.
 */
import { createWriteStream, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { createCostRoutes } from '../src/cost/routes.js';
import { createCostService } from '../src/cost/service.js';
import { createCostPrometheus, withCache, type QueryStats } from '../src/cost/prometheus.js';
import { staticTeamDirectory } from '../src/cost/teams.js';
import { startPrometheus } from '../src/localcluster/prometheus.js';
import { RECORDING_INTERVAL_SECONDS } from '../src/cost/queries.js';
import { renderRuleGroups, type RecordingRule } from '../src/monitoring/rules.js';
import type { ApiEnv, Caller } from '../src/access/index.js';
import { costHistoryOpenMetricsChunks, type CostHistory, type ContainerShape } from '../test/support/cost-history.js';
import { compactionState, settleCompaction } from './prometheus-tsdb.js';

const GIB = 1024 ** 3;
const HOUR = 3600;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}

const teams = Number(arg('teams', '200'));
const services = Number(arg('services', '2000'));
const days = Number(arg('days', '3'));
const resolution = Number(arg('resolution', '300')); // at most 300: the model prorates in 5-minute steps
const window = arg('window', `${days}d`);
const step = arg('step', '1d');
const iterations = Number(arg('iterations', '20'));
const maxFileBytes = Number(arg('max-file-gb', '15')) * 1e9;

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

/**
 * Streams the OpenMetrics text of the history to `file` (with backpressure), giving up when the size
 * extrapolated from the first 1% of the samples exceeds `maxFileBytes`. Returns the bytes written and
 * the lines (samples) counted, or undefined when it gave up.
 */
async function writeHistory(history: CostHistory, file: string, samples: number): Promise<{ bytes: number; samples: number } | undefined> {
  const stream = createWriteStream(file, { highWaterMark: 4 * 1024 * 1024 });
  let bytes = 0;
  let lines = 0;
  let checked = false;
  try {
    for (const chunk of costHistoryOpenMetricsChunks(history)) {
      bytes += Buffer.byteLength(chunk);
      for (let i = chunk.indexOf('\n'); i >= 0; i = chunk.indexOf('\n', i + 1)) lines++;
      if (!checked && lines > samples / 100) {
        checked = true;
        const estimate = (bytes / lines) * samples;
        out(`  estimated file size ${(estimate / 1e9).toFixed(2)} GB (from the first ${lines} lines)`);
        if (estimate > maxFileBytes) {
          out(`  more than --max-file-gb ${maxFileBytes / 1e9}: not generating it`);
          return undefined;
        }
      }
      if (!stream.write(chunk)) await once(stream, 'drain');
    }
  } finally {
    stream.end();
    await once(stream, 'close');
  }
  const typeLines = 6; // '# TYPE' lines of the five families written (no PVCs, no rollouts) and '# EOF'
  return { bytes, samples: lines - typeLines };
}

interface Figures {
  costSource: string;
  firstMs: number;
  coldP50Ms: number;
  coldP99Ms: number;
  cachedP50Ms: number;
  cachedP99Ms: number;
  queriesPerRequestCold: number;
  queriesPerRequestCached: number;
}

/** Cold and cached latency of `path` with a cost service reading `source` ('auto': recorded when present). */
async function measure(url: string, path: string, source: 'raw' | 'auto', now: () => Date): Promise<Figures> {
  const stats: QueryStats = { sent: 0 };
  const cached = withCache(createCostPrometheus({ url, stats, timeoutMs: 120_000 }), { maxEntries: 500, ttlMs: 3_600_000 });
  const cost = createCostService({ prometheus: cached, teams: staticTeamDirectory([]), now, costSource: source });
  const finance: Caller = { subject: 'bench', groups: [], teams: [], isPlatformAdmin: false, isFinance: true };
  const app = new Hono<ApiEnv>();
  app.use('*', async (c, next) => {
    c.set('caller', finance);
    await next();
  });
  app.route('/', createCostRoutes({ cost }));

  let costSource = '';
  const request = async (): Promise<{ ms: number; queries: number; teams: number }> => {
    const before = stats.sent;
    const start = process.hrtime.bigint();
    const res = await app.request(path);
    const body = (await res.json()) as { teams?: unknown[]; message?: string; costSource?: string };
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${body.message}`);
    costSource = body.costSource ?? '?';
    return { ms, queries: stats.sent - before, teams: body.teams?.length ?? 0 };
  };

  const warm = await request(); // first touch of the blocks (page cache), not counted
  out(`[${source}] first request: ${warm.ms.toFixed(0)} ms, ${warm.queries} PromQL queries, ${warm.teams} teams in the answer, costSource ${costSource}`);
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
  out(`GET ${path} (costSource ${costSource})`);
  out(`  cold   (cache cleared, n=${cold.length}): p50 ${percentile(cold, 50).toFixed(1)} ms, p99 ${percentile(cold, 99).toFixed(1)} ms, PromQL queries/request ${Math.max(...queries)}`);
  out(`  cached (n=${hot.length}): p50 ${percentile(hot, 50).toFixed(2)} ms, p99 ${percentile(hot, 99).toFixed(2)} ms, PromQL queries/request ${Math.max(...hotQueries)}`);
  out(`  memory: rss ${(mem.rss / 1024 / 1024).toFixed(0)} MB, heap used ${(mem.heapUsed / 1024 / 1024).toFixed(0)} MB (the benchmark process: cost service, cache, HTTP handler)`);
  return {
    costSource,
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
  const file = join(tmpdir(), `paved-bench-cost-${process.pid}.om`);
  let prom: Awaited<ReturnType<typeof startPrometheus>> | undefined;
  try {
    let t = Date.now();
    const written = await writeHistory(history, file, samples);
    if (!written) {
      process.exitCode = 2;
      return;
    }
    const fileBytes = statSync(file).size;
    const generationSeconds = (Date.now() - t) / 1000;
    out(`generated ${(fileBytes / 1e9).toFixed(2)} GB (${written.samples} sample lines) of OpenMetrics in ${seconds(t)} -> ${file}`);
    t = Date.now();
    prom = await startPrometheus({ backfillFile: file, readyTimeoutMs: 900_000 });
    const ready = Date.now();
    rmSync(file, { force: true });
    // startPrometheus writes prometheus.yml right after promtool finished and before starting Prometheus.
    const configWritten = statSync(join(prom.dir, 'prometheus.yml')).mtimeMs;
    const backfillSeconds = (configWritten - t) / 1000;
    const startSeconds = (ready - configWritten) / 1000;
    out(`promtool backfill ${backfillSeconds.toFixed(1)} s, Prometheus start (until ready) ${startSeconds.toFixed(1)} s; file deleted`);
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
    const raw = await measure(prom.url, path, 'raw', now);
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
        generationSeconds,
        backfillSeconds,
        prometheusStartSeconds: startSeconds,
        blocksLoaded: after.blocks,
        window,
        step,
        raw,
        recorded,
        recordingSeconds,
        recordedSamples,
        rssMB: Math.round(process.memoryUsage().rss / 1024 / 1024),
        prometheusRssMB: after.prometheusRssMB,
      }),
    );
  } finally {
    rmSync(file, { force: true });
    await prom?.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
