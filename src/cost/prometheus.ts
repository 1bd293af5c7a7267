/**
 * The cost model's view of Prometheus: range and instant queries returning plain series, with
 * timeouts, a query counter (figures for the benchmark and /metrics) and a bounded per-window
 * cache in front. Errors become PrometheusRejectedError (Prometheus answered with an error) or
 * PrometheusUnavailableError (unreachable, timed out); an empty result is just no series.
 */
import { PrometheusDriver, type QueryResult } from 'prometheus-query';
import { PrometheusUnavailableError, describeError } from '../errors.js';
import { TtlCache } from './cache.js';
import { PrometheusRejectedError } from './errors.js';

/** One result series: its labels and its points `[unix seconds, value]`. */
export interface Series {
  readonly labels: Readonly<Record<string, string>>;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

export interface CostPrometheus {
  /** query_range over [startSeconds, endSeconds] every stepSeconds. */
  rangeQuery(query: string, startSeconds: number, endSeconds: number, stepSeconds: number): Promise<Series[]>;
  /** An instant query at timeSeconds. */
  instantQuery(query: string, timeSeconds: number): Promise<Series[]>;
}

/** Counts the queries actually sent (cache misses). */
export interface QueryStats {
  sent: number;
}

export interface PrometheusClientOptions {
  readonly url: string;
  readonly timeoutMs?: number;
  readonly stats?: QueryStats;
  /** Called once per query sent (e.g. to increment a prom-client counter). */
  readonly onQuery?: (kind: 'range' | 'instant') => void;
}

function toSeries(result: QueryResult): Series[] {
  const out: Series[] = [];
  for (const r of result.result as Array<{ metric?: { labels?: Record<string, string> }; values?: Array<{ time: Date; value: number }>; value?: { time: Date; value: number } }>) {
    const labels = { ...(r.metric?.labels ?? {}) };
    const samples = r.values ?? (r.value ? [r.value] : []);
    out.push({ labels, points: samples.map((s) => [Math.round(s.time.getTime() / 1000), s.value] as const) });
  }
  return out;
}

/** A Prometheus client (prometheus-query) with timeouts; POST so long queries fit. */
export function createCostPrometheus(options: PrometheusClientOptions): CostPrometheus {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const driver = new PrometheusDriver({ endpoint: options.url, baseURL: '/api/v1', timeout: timeoutMs, preferPost: true });
  const evalTimeout = `${Math.max(1, Math.floor(timeoutMs / 1000))}s`;
  const sent = (kind: 'range' | 'instant'): void => {
    if (options.stats) options.stats.sent++;
    options.onQuery?.(kind);
  };
  const wrap = async (run: () => Promise<QueryResult>): Promise<Series[]> => {
    try {
      return toSeries(await run());
    } catch (err) {
      // prometheus-query marks an answer of Prometheus as http_error; 503 is its timeout/unavailable.
      const e = err as { errorType?: unknown; httpStatus?: unknown } | null;
      const answered = e !== null && typeof e === 'object' && e.errorType === 'http_error' && e.httpStatus !== 503;
      const message = `Prometheus query failed: ${describePromError(err)}`;
      throw answered ? new PrometheusRejectedError(message, { cause: err }) : new PrometheusUnavailableError(message, { cause: err });
    }
  };
  return {
    rangeQuery(query, start, end, step) {
      sent('range');
      return wrap(() => driver.rangeQuery(query, start * 1000, end * 1000, step, evalTimeout));
    },
    instantQuery(query, time) {
      sent('instant');
      return wrap(() => driver.instantQuery(query, time * 1000, evalTimeout));
    },
  };
}

function describePromError(err: unknown): string {
  const e = err as { message?: unknown; error?: unknown; errorType?: unknown };
  if (e && typeof e === 'object' && typeof e.error === 'string') return `${typeof e.errorType === 'string' ? e.errorType : 'error'}: ${e.error}`;
  return describeError(err);
}

export interface CostCacheOptions {
  readonly maxEntries?: number;
  readonly ttlMs?: number;
  readonly nowMs?: () => number;
}

/**
 * Caches results per (query, window): windows are aligned to whole hours or days, so the same
 * request maps to the same key until the next bucket completes. Bounded (LRU) with a TTL so
 * late samples are picked up.
 */
export function withCache(inner: CostPrometheus, options: CostCacheOptions = {}): CostPrometheus & { cache: TtlCache<Series[]> } {
  const cache = new TtlCache<Series[]>({
    maxEntries: options.maxEntries ?? 500,
    ttlMs: options.ttlMs ?? 5 * 60_000,
    ...(options.nowMs ? { nowMs: options.nowMs } : {}),
  });
  return {
    cache,
    rangeQuery: (q, s, e, st) => cache.getOrLoad(`range|${s}|${e}|${st}|${q}`, () => inner.rangeQuery(q, s, e, st)),
    instantQuery: (q, t) => cache.getOrLoad(`instant|${t}|${q}`, () => inner.instantQuery(q, t)),
  };
}
