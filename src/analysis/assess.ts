/**
 * Pure analysis: turns provider results into a measurement (`judge`), folds a measurement into a
 * metric's run (`assess`) and a run's metrics into the run's phase (`summarizeRun`), with the
 * semantics of Argo Rollouts and Flagger:
 *
 * - a measurement is Successful or Failed against the metric's criterion; "no data" (empty result,
 *   NaN, no traffic) is Inconclusive, never a pass and never a failure; a provider error is Error
 *   ("Prometheus unavailable: <cause>" when Prometheus did not answer), retried sooner with backoff;
 * - the metric fails when failed > failureLimit, becomes Inconclusive when inconclusive >
 *   inconclusiveLimit, ends in Error when consecutive errors > consecutiveErrorLimit (an error does
 *   not use up `count`, any other measurement resets the consecutive count);
 * - after `count` decided measurements the metric is Successful, unless none of them succeeded
 *   (then it is Inconclusive: an analysis made of "no data" proves nothing); under the default
 *   advance rule (RequireLatestSuccess), stricter than Argo's, the latest measurement must also have
 *   succeeded: when it did not, one more is taken, which the limits above bound (a flapping canary
 *   bad, good, bad is never promoted on its bad reading); `WithinLimits` is Argo's rule;
 * - the run fails as soon as one metric fails; otherwise Error, then Inconclusive, pause it; it
 *   succeeds when every metric succeeded.
 *
 * No clock: `now` is an argument. Measurement histories are bounded (MAX_MEASUREMENTS).
 */
import { evaluateCondition, parseCondition } from './condition.js';
import { parseDuration } from './duration.js';
import {
  MAX_MEASUREMENTS,
  type AnalysisRun,
  type Measurement,
  type MetricRun,
  type MetricSpec,
  type ProviderResult,
  type ResolvedMetric,
  type RunPhase,
} from './types.js';

/** A readable statement of what makes a measurement pass, stored with the run and shown on failure. */
export function describeCriterion(metric: MetricSpec): string {
  if (metric.successCondition !== undefined) return metric.successCondition.trim();
  if (metric.comparison) {
    const { maxRatio, tolerance } = metric.comparison;
    return `canary <= stable * ${maxRatio} + ${tolerance}`;
  }
  const parts: string[] = [];
  if (metric.min !== undefined) parts.push(`result >= ${metric.min}`);
  if (metric.max !== undefined) parts.push(`result <= ${metric.max}`);
  return parts.join(' && ');
}

function formatValue(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v);
}

/** JSON has no Infinity: keep finite values as numbers, describe the others in the message. */
function withValue(m: Measurement, key: 'value' | 'stableValue', v: number): Measurement {
  return Number.isFinite(v) ? { ...m, [key]: v } : m;
}

function passes(metric: MetricSpec, value: number, stable: number | undefined): boolean {
  if (metric.successCondition !== undefined) {
    return evaluateCondition(parseCondition(metric.successCondition), value);
  }
  if (metric.comparison) {
    const { maxRatio, tolerance } = metric.comparison;
    return value <= (stable ?? 0) * maxRatio + tolerance;
  }
  return (metric.min === undefined || value >= metric.min) && (metric.max === undefined || value <= metric.max);
}

/** How a measurement's message starts when Prometheus did not answer (distinct from "no data"). */
export const PROVIDER_UNAVAILABLE = 'Prometheus unavailable';

/** The message of a provider error: an outage names Prometheus, a query error names the query. */
function describeProviderError(track: 'canary' | 'stable', r: Extract<ProviderResult, { kind: 'error' }>): string {
  return r.unavailable ? `${PROVIDER_UNAVAILABLE}: ${r.message}` : `${track} query failed: ${r.message}`;
}

/** True when a measurement failed because Prometheus did not answer. */
export function isProviderUnavailable(m: Measurement | undefined): boolean {
  return m?.phase === 'Error' && (m.message?.startsWith(PROVIDER_UNAVAILABLE) ?? false);
}

/**
 * Judges one measurement of `metric` from the canary's result and, for comparisons, the stable
 * track's. Never throws: an unusable condition becomes an Error measurement.
 */
export function judge(metric: MetricSpec, canary: ProviderResult, stable: ProviderResult | undefined, at: string): Measurement {
  if (canary.kind === 'error') return { phase: 'Error', at, message: describeProviderError('canary', canary) };
  if (metric.comparison) {
    if (!stable) return { phase: 'Error', at, message: 'comparison without a stable measurement' };
    if (stable.kind === 'error') return { phase: 'Error', at, message: describeProviderError('stable', stable) };
  }
  if (canary.kind === 'noData') {
    return { phase: 'Inconclusive', at, message: 'no data for the canary (no traffic, or the series does not exist yet)' };
  }
  const stableValue = metric.comparison && stable?.kind === 'value' ? stable.value : undefined;
  if (metric.comparison && stableValue === undefined) {
    return withValue({ phase: 'Inconclusive', at, message: 'no data for the stable track: nothing to compare with' }, 'value', canary.value);
  }
  let ok: boolean;
  try {
    ok = passes(metric, canary.value, stableValue);
  } catch (err) {
    return { phase: 'Error', at, message: err instanceof Error ? err.message : String(err) };
  }
  const shown = stableValue === undefined
    ? `value ${formatValue(canary.value)}`
    : `canary ${formatValue(canary.value)}, stable ${formatValue(stableValue)}`;
  let m: Measurement = {
    phase: ok ? 'Successful' : 'Failed',
    at,
    message: `${shown} ${ok ? 'meets' : 'breaks'} ${describeCriterion(metric)}`,
  };
  m = withValue(m, 'value', canary.value);
  if (stableValue !== undefined) m = withValue(m, 'stableValue', stableValue);
  return m;
}

/** A new, undecided metric run; its first measurement is due one interval after `now`. */
export function newMetricRun(resolved: ResolvedMetric, renderedQuery: string, now: Date): MetricRun {
  const { metric, template } = resolved;
  return {
    name: metric.name,
    template,
    phase: 'Running',
    query: renderedQuery,
    condition: describeCriterion(metric),
    successful: 0,
    failed: 0,
    inconclusive: 0,
    error: 0,
    consecutiveErrors: 0,
    measurements: [],
    nextMeasurementAt: new Date(now.getTime() + parseDuration(metric.interval)).toISOString(),
  };
}

/**
 * When a metric with `count` measurements may pass: `RequireLatestSuccess` (default) only when its latest
 * measurement succeeded; `WithinLimits` (Argo Rollouts) whenever the failures are within failureLimit.
 */
export type AdvanceRule = 'RequireLatestSuccess' | 'WithinLimits';

export const DEFAULT_ADVANCE_RULE: AdvanceRule = 'RequireLatestSuccess';

function decide(run: MetricRun, metric: MetricSpec, rule: AdvanceRule): { phase: RunPhase; message?: string } {
  if (run.failed > metric.failureLimit) {
    return { phase: 'Failed', message: `${run.failed} failed measurements (failureLimit ${metric.failureLimit})` };
  }
  if (run.consecutiveErrors > metric.consecutiveErrorLimit) {
    const cause = run.measurements.at(-1)?.message;
    return {
      phase: 'Error',
      message: `${cause ? `${cause}; ` : ''}${run.consecutiveErrors} consecutive query errors (consecutiveErrorLimit ${metric.consecutiveErrorLimit})`,
    };
  }
  if (run.inconclusive > metric.inconclusiveLimit) {
    return {
      phase: 'Inconclusive',
      message: `${run.inconclusive} measurements without data (inconclusiveLimit ${metric.inconclusiveLimit})`,
    };
  }
  if (run.successful + run.failed + run.inconclusive >= metric.count) {
    if (run.successful === 0) return { phase: 'Inconclusive', message: 'no measurement succeeded' };
    const latest = run.measurements.at(-1);
    if (rule === 'RequireLatestSuccess' && latest?.phase !== 'Successful') {
      return { phase: 'Running', message: `the latest measurement is ${latest?.phase ?? 'missing'}: one more is needed (advanceRule RequireLatestSuccess)` };
    }
    return { phase: 'Successful', message: `${run.successful} of ${metric.count} measurements succeeded` };
  }
  return { phase: 'Running' };
}

/** The first retry after a query error; each further consecutive error doubles it, up to the interval. */
export const ERROR_RETRY_MS = 1_000;

/**
 * When the next measurement is due: one interval after a reading; after `consecutiveErrors` query
 * errors, sooner, with exponential backoff capped at the interval (an outage of a few seconds costs a
 * few seconds, not `consecutiveErrorLimit` intervals, and a long one is not hammered).
 */
export function nextDelayMs(metric: MetricSpec, consecutiveErrors: number): number {
  const interval = parseDuration(metric.interval);
  if (consecutiveErrors === 0) return interval;
  return Math.min(interval, ERROR_RETRY_MS * 2 ** Math.min(consecutiveErrors - 1, 20));
}

/** Folds one measurement into a metric run. A decided run is returned unchanged. */
export function assess(run: MetricRun, metric: MetricSpec, measurement: Measurement, now: Date, rule: AdvanceRule = DEFAULT_ADVANCE_RULE): MetricRun {
  if (run.phase !== 'Running') return run;
  const next: MetricRun = {
    ...run,
    successful: run.successful + Number(measurement.phase === 'Successful'),
    failed: run.failed + Number(measurement.phase === 'Failed'),
    inconclusive: run.inconclusive + Number(measurement.phase === 'Inconclusive'),
    error: run.error + Number(measurement.phase === 'Error'),
    consecutiveErrors: measurement.phase === 'Error' ? run.consecutiveErrors + 1 : 0,
    measurements: [...run.measurements, measurement].slice(-MAX_MEASUREMENTS),
  };
  const { phase, message } = decide(next, metric, rule);
  const decided: MetricRun = { ...next, phase };
  if (message !== undefined) decided.message = message;
  else delete decided.message;
  if (phase === 'Running') {
    decided.nextMeasurementAt = new Date(now.getTime() + nextDelayMs(metric, decided.consecutiveErrors)).toISOString();
  } else {
    delete decided.nextMeasurementAt;
  }
  return decided;
}

const SEVERITY: readonly RunPhase[] = ['Failed', 'Error', 'Inconclusive', 'Running', 'Successful'];

/** The run's phase from its metrics: the most severe metric phase wins (Failed > Error > Inconclusive > Running). */
export function summarizeRun(run: AnalysisRun, now: Date): AnalysisRun {
  if (run.phase !== 'Running') return run;
  const phases = run.metrics.map((m) => m.phase);
  const phase = SEVERITY.find((p) => phases.includes(p)) ?? 'Successful';
  if (phase === 'Running') return run;
  const culprit = run.metrics.find((m) => m.phase === phase);
  const message =
    phase === 'Successful'
      ? 'all metrics succeeded'
      : `metric ${culprit?.name ?? '?'} ${phase.toLowerCase()}: ${culprit?.message ?? ''}`.trim();
  return { ...run, phase, message, finishedAt: now.toISOString() };
}

/** Names of the metrics whose next measurement is due at `now`. */
export function dueMetrics(run: AnalysisRun, now: Date): string[] {
  if (run.phase !== 'Running') return [];
  return run.metrics
    .filter((m) => m.phase === 'Running' && m.nextMeasurementAt !== undefined && Date.parse(m.nextMeasurementAt) <= now.getTime())
    .map((m) => m.name);
}

/** The earliest time a measurement of the run is due, or undefined when none is. */
export function nextMeasurementAt(run: AnalysisRun): Date | undefined {
  const times = run.metrics
    .filter((m) => m.phase === 'Running' && m.nextMeasurementAt !== undefined)
    .map((m) => Date.parse(m.nextMeasurementAt as string));
  return times.length ? new Date(Math.min(...times)) : undefined;
}

/** Applies measurements (by metric name) to a run and recomputes its phase. */
export function applyMeasurements(
  run: AnalysisRun,
  metrics: readonly ResolvedMetric[],
  measurements: ReadonlyMap<string, Measurement>,
  now: Date,
  rule: AdvanceRule = DEFAULT_ADVANCE_RULE,
): AnalysisRun {
  const updated = run.metrics.map((mr) => {
    const m = measurements.get(mr.name);
    const spec = metrics.find((r) => r.metric.name === mr.name)?.metric;
    return m && spec ? assess(mr, spec, m, now, rule) : mr;
  });
  return summarizeRun({ ...run, metrics: updated }, now);
}
