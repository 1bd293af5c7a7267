/**
 * The Prometheus metrics provider (prometheus-query with a request timeout). It NEVER throws:
 * every outcome is a value, "no data" or an error message, because a measurement is data about the
 * canary and a Prometheus outage must pause a rollout, not crash the controller or promote it.
 *
 * - one finite or infinite number (a scalar, or a vector with exactly one sample) -> value
 * - an empty vector, or NaN -> noData (no traffic proves nothing)
 * - more than one series -> error (the query is ambiguous; fix the template with sum()/by())
 * - network error, timeout, HTTP 5xx -> error, marked `unavailable` (waiting cures it)
 * - HTTP 4xx (PromQL) error -> error
 */
import { PrometheusDriver } from 'prometheus-query';
import type { ProviderResult } from './types.js';

/** Runs one instant query. Implementations never reject. */
export interface MetricsProvider {
  query(promql: string): Promise<ProviderResult>;
}

export interface PrometheusProviderOptions {
  /** Base URL of Prometheus, e.g. http://127.0.0.1:9090 */
  readonly url: string;
  /** Client-side timeout of each request, ms (also sent to Prometheus as the evaluation timeout). */
  readonly timeoutMs?: number;
  /** Called after every query (for the queries/second figure and the analysis metrics). */
  readonly onQuery?: (outcome: ProviderResult['kind'], durationMs: number) => void;
}

/** Turns the rejection value of prometheus-query (a plain object, not an Error) into a message. */
export function describeQueryError(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (err && typeof err === 'object') {
    const e = err as { errorType?: unknown; error?: unknown; httpStatus?: unknown };
    const parts = [e.errorType, e.httpStatus, e.error].filter((p) => p !== undefined && p !== '');
    if (parts.length) return parts.map(String).join(': ');
  }
  return String(err);
}

/**
 * True when a rejection of prometheus-query means Prometheus did not answer (network, TLS, timeout, HTTP
 * 5xx): a provider outage, not a problem of the query.
 */
export function isUnavailableError(err: unknown): boolean {
  if (err instanceof Error) return true;
  if (!err || typeof err !== 'object') return false;
  const e = err as { errorType?: unknown; httpStatus?: unknown };
  if (e.errorType === 'network_error' || e.errorType === 'timeout_error' || e.errorType === 'ssl_error') return true;
  return typeof e.httpStatus === 'number' && e.httpStatus >= 500;
}

/** Interprets a query's data (resultType + result) as a ProviderResult. Pure. */
export function interpretResult(resultType: string, result: unknown): ProviderResult {
  let value: number;
  if (resultType === 'scalar') {
    const sample = result as { value?: unknown } | [number, string];
    value = Array.isArray(sample) ? Number(sample[1]) : Number((sample).value);
  } else if (resultType === 'vector') {
    const series = result as Array<{ value?: { value?: unknown } }>;
    if (series.length === 0) return { kind: 'noData' };
    if (series.length > 1) {
      return { kind: 'error', message: `query returned ${series.length} series; aggregate it to one number (sum, max, by ())` };
    }
    value = Number(series[0]?.value?.value);
  } else {
    return { kind: 'error', message: `query returned a ${resultType}; an instant vector or scalar is needed` };
  }
  if (Number.isNaN(value)) return { kind: 'noData' };
  return { kind: 'value', value };
}

/** Rewrites "+Inf"/"-Inf" sample values of an API response in place into strings parseFloat reads. */
export function normalizeInfinities(body: unknown): void {
  const data = (body as { data?: { resultType?: string; result?: unknown } } | undefined)?.data;
  const fix = (sample: unknown): void => {
    if (Array.isArray(sample) && typeof sample[1] === 'string') {
      if (sample[1] === '+Inf') sample[1] = 'Infinity';
      else if (sample[1] === '-Inf') sample[1] = '-Infinity';
    }
  };
  if (data?.resultType === 'scalar') fix(data.result);
  if (data?.resultType === 'vector' && Array.isArray(data.result)) {
    for (const series of data.result as Array<{ value?: unknown }>) fix(series.value);
  }
}

/** Creates a provider over one Prometheus. */
export function createPrometheusProvider({ url, timeoutMs = 5000, onQuery }: PrometheusProviderOptions): MetricsProvider {
  const driver = new PrometheusDriver({
    endpoint: url,
    baseURL: '/api/v1',
    timeout: timeoutMs,
    // prometheus-query parses samples with parseFloat, which reads Prometheus' "+Inf" as NaN, and NaN
    // means "no data" here: a canary so slow that its p99 is +Inf must fail, not be inconclusive.
    responseInterceptor: {
      onFulfilled: (res) => {
        normalizeInfinities(res.data);
        return res;
      },
    },
  });
  const evalTimeout = `${Math.max(1, Math.floor(timeoutMs / 1000))}s`;
  return {
    async query(promql: string): Promise<ProviderResult> {
      const started = performance.now();
      let outcome: ProviderResult;
      try {
        const res = await driver.instantQuery(promql, undefined, evalTimeout);
        outcome = interpretResult(res.resultType, res.result);
      } catch (err) {
        outcome = { kind: 'error', message: describeQueryError(err), ...(isUnavailableError(err) ? { unavailable: true } : {}) };
      }
      onQuery?.(outcome.kind, performance.now() - started);
      return outcome;
    },
  };
}
