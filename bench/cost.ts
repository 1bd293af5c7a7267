/**
 * Benchmark of the cost API: the all-teams endpoint over backfilled history of many teams.
 *
 *   node --import tsx bench/cost.ts [--teams 200] [--services 2000] [--days 3] [--resolution 1800]
 *                                   [--window 3d] [--step 1d] [--iterations 20]
 *
 * Prints: backfill size and time, p50/p99 latency of GET /cost/teams cold (cache cleared before every
 * request) and cached, PromQL queries per request, and the process memory (RSS, heap).
 *
 * Scale: the issue asks for 30 days at 5-minute resolution (88 M samples for 2,000 services). The
 * Prometheus helper takes the OpenMetrics text as one string (V8 caps a string near 512 MB, about 5 M
 * lines) and promtool writes 2-hour blocks (re-reading the whole input per block), so the default
 * here is 3 days at 30-minute samples for the full 200 teams and 2,000 services; the flags give any
 * other scale the helper can take. The figures printed always say which scale they are for.
 */
import { Hono } from 'hono';
import { createCostRoutes } from '../src/cost/routes.js';
import { createCostService } from '../src/cost/service.js';
import { createCostPrometheus, withCache, type QueryStats } from '../src/cost/prometheus.js';
import { staticTeamDirectory } from '../src/cost/teams.js';
import { startPrometheus } from '../src/localcluster/prometheus.js';
import type { ApiEnv, Caller } from '../src/server/caller.js';
import { costHistoryOpenMetricsChunks, type CostHistory, type ContainerShape } from '../test/support/cost-history.js';

const GIB = 1024 ** 3;
const HOUR = 3600;
const MAX_TEXT = 480 * 1024 * 1024;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}

const teams = Number(arg('teams', '200'));
const services = Number(arg('services', '2000'));
const days = Number(arg('days', '3'));
const resolution = Number(arg('resolution', '1800'));
const window = arg('window', `${days}d`);
const step = arg('step', '1d');
const iterations = Number(arg('iterations', '20'));

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

/** promtool writes 2-hour blocks; Prometheus compacts them after start. Measure once that settles. */
async function settleCompaction(url: string): Promise<number> {
  const blocks = async (): Promise<number> => {
    const text = await (await fetch(`${url}/metrics`)).text();
    return Number(/^prometheus_tsdb_blocks_loaded (\S+)/m.exec(text)?.[1] ?? NaN);
  };
  let last = await blocks();
  let stableSince = Date.now();
  const deadline = Date.now() + 10 * 60_000;
  while (Date.now() < deadline && Date.now() - stableSince < 120_000) {
    await new Promise((r) => setTimeout(r, 2_000));
    const now = await blocks();
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    }
  }
  return last;
}

async function main(): Promise<void> {
  const history = benchHistory();
  const samples = (history.containers.length * 4 + history.containers.length + history.namespaces.length) * history.hours * (HOUR / resolution);
  out(`scale: ${teams} teams, ${services} services, ${days} days at ${resolution}s samples = ${(samples / 1e6).toFixed(2)} M samples`);
  let t = Date.now();
  const chunks: string[] = [];
  let size = 0;
  for (const c of costHistoryOpenMetricsChunks(history)) {
    size += c.length;
    if (size > MAX_TEXT) {
      out(`the OpenMetrics text exceeds ${MAX_TEXT / 1024 / 1024} MB, more than the Prometheus helper can take as a string; use fewer --days or a longer --resolution`);
      process.exitCode = 2;
      return;
    }
    chunks.push(c);
  }
  let text = chunks.join('');
  chunks.length = 0;
  out(`generated ${(text.length / 1024 / 1024).toFixed(0)} MB of OpenMetrics in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  t = Date.now();
  const prom = await startPrometheus({ backfillOpenMetrics: text, readyTimeoutMs: 600_000 });
  text = ''; // let the generator's text go before measuring memory
  out(`backfilled and started Prometheus in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  try {
    t = Date.now();
    const blocks = await settleCompaction(prom.url);
    out(`waited ${((Date.now() - t) / 1000).toFixed(0)} s for Prometheus to compact the backfilled blocks (${blocks} blocks loaded)`);
    const stats: QueryStats = { sent: 0 };
    const cached = withCache(createCostPrometheus({ url: prom.url, stats, timeoutMs: 120_000 }), { maxEntries: 500, ttlMs: 3_600_000 });
    const cost = createCostService({ prometheus: cached, teams: staticTeamDirectory([]), now: () => new Date(history.startSeconds * 1000 + history.hours * HOUR * 1000 + 60_000) });
    const finance: Caller = { subject: 'bench', groups: [], teams: [], isPlatformAdmin: false, isFinance: true };
    const app = new Hono<ApiEnv>();
    app.use('*', async (c, next) => {
      c.set('caller', finance);
      await next();
    });
    app.route('/', createCostRoutes({ cost }));
    const path = `/cost/teams?window=${window}&step=${step}`;

    const request = async (): Promise<{ ms: number; queries: number; teams: number }> => {
      const before = stats.sent;
      const start = process.hrtime.bigint();
      const res = await app.request(path);
      const body = (await res.json()) as { teams?: unknown[]; message?: string };
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${body.message}`);
      return { ms, queries: stats.sent - before, teams: body.teams?.length ?? 0 };
    };

    const warm = await request(); // first touch of the blocks (page cache), not counted
    out(`first request: ${warm.ms.toFixed(0)} ms, ${warm.queries} PromQL queries, ${warm.teams} teams in the answer`);
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
    out(`GET ${path}`);
    out(`  cold   (cache cleared, n=${cold.length}): p50 ${percentile(cold, 50).toFixed(1)} ms, p99 ${percentile(cold, 99).toFixed(1)} ms, PromQL queries/request ${Math.max(...queries)}`);
    out(`  cached (n=${hot.length}): p50 ${percentile(hot, 50).toFixed(2)} ms, p99 ${percentile(hot, 99).toFixed(2)} ms, PromQL queries/request ${Math.max(...hotQueries)}`);
    out(`  memory: rss ${(mem.rss / 1024 / 1024).toFixed(0)} MB, heap used ${(mem.heapUsed / 1024 / 1024).toFixed(0)} MB (the benchmark process: cost service, cache, HTTP handler)`);
    out(
      JSON.stringify({
        bench: 'cost',
        teams,
        services,
        days,
        resolutionSeconds: resolution,
        samplesMillions: Number((samples / 1e6).toFixed(2)),
        window,
        step,
        coldP50Ms: percentile(cold, 50),
        coldP99Ms: percentile(cold, 99),
        cachedP50Ms: percentile(hot, 50),
        cachedP99Ms: percentile(hot, 99),
        queriesPerRequestCold: Math.max(...queries),
        queriesPerRequestCached: Math.max(...hotQueries),
        rssMB: Math.round(mem.rss / 1024 / 1024),
      }),
    );
  } finally {
    await prom.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
