/**
 * The one place analysis does I/O: renders a metric's query for the canary (and for the stable
 * track when the metric is a comparison), runs them through the provider concurrently and judges
 * the result. Never throws: a template that cannot be rendered is an Error measurement.
 */
import { judge } from './assess.js';
import { formatPromDuration, parseDuration } from './duration.js';
import type { MetricsProvider } from './prometheus-provider.js';
import { renderQuery, type QueryVars } from './render-query.js';
import type { Measurement, MetricSpec, ProviderResult } from './types.js';

export interface MeasureTarget {
  readonly namespace: string;
  readonly service: string;
  readonly canaryRevision: string;
  readonly stableRevision: string;
}

/** The variables of a metric's query for one track. */
export function queryVars(metric: MetricSpec, target: MeasureTarget, track: 'canary' | 'stable'): QueryVars {
  return {
    namespace: target.namespace,
    service: target.service,
    track,
    revision: track === 'canary' ? target.canaryRevision : target.stableRevision,
    interval: formatPromDuration(parseDuration(metric.window ?? metric.interval)),
  };
}

/** Takes one measurement of `metric`. */
export async function measureMetric(
  provider: MetricsProvider,
  metric: MetricSpec,
  target: MeasureTarget,
  now: Date,
): Promise<Measurement> {
  const at = now.toISOString();
  let canaryQuery: string;
  let stableQuery: string | undefined;
  try {
    canaryQuery = renderQuery(metric.query, queryVars(metric, target, 'canary'));
    if (metric.comparison) stableQuery = renderQuery(metric.query, queryVars(metric, target, 'stable'));
  } catch (err) {
    return { phase: 'Error', at, message: err instanceof Error ? err.message : String(err) };
  }
  const [canary, stable] = await Promise.all([
    provider.query(canaryQuery),
    stableQuery === undefined ? Promise.resolve<ProviderResult | undefined>(undefined) : provider.query(stableQuery),
  ]);
  return judge(metric, canary, stable, at);
}
