/**
 * Analysis: AnalysisTemplate/ClusterAnalysisTemplate metrics measured against Prometheus.
 * - types.ts: the template schema (zod, defaults as in the CRDs) and the run state kept in status;
 * - render-query.ts, condition.ts, duration.ts: pure helpers;
 * - assess.ts: pure judgement and Argo/Flagger run semantics (no data is inconclusive);
 * - prometheus-provider.ts: the provider (never throws); measure.ts: the one I/O step;
 * - templates.ts: parsing, the built-in templates of analysis-templates/, resolution;
 * - template-source.ts: the lookup of a spec's templates in the shared informer cache, for the WebService reconcile.
 * See docs/delivery.md.
 */
import { createPrometheusProvider, type MetricsProvider } from './prometheus-provider.js';

export * from './types.js';
export { renderQuery, type QueryVars } from './render-query.js';
export { parseCondition, evaluateCondition } from './condition.js';
export { parseDuration, formatPromDuration } from './duration.js';
export { judge, assess, newMetricRun, summarizeRun, applyMeasurements, dueMetrics, nextMeasurementAt, describeCriterion } from './assess.js';
export { createPrometheusProvider, interpretResult, type MetricsProvider, type PrometheusProviderOptions } from './prometheus-provider.js';
export { measureMetric, queryVars, type MeasureTarget } from './measure.js';
export { TemplateSource, type ResolvedAnalysis, type StepsWithAnalysis } from './template-source.js';
export { loadBuiltinTemplates, parseTemplateSpec, resolveMetrics, DEFAULT_TEMPLATE_REFS, BUILTIN_TEMPLATES_DIR, ANALYSIS_API_VERSION } from './templates.js';

/**
 * The provider for a configured Prometheus URL (PAVED_PROMETHEUS_URL), or, without one, a provider
 * whose every query is an error: analyses then pause with a clear reason instead of passing.
 */
export function metricsProviderFor(
  url: string | undefined,
  opts: { timeoutMs?: number; onQuery?: (outcome: 'value' | 'noData' | 'error', durationMs: number) => void } = {},
): MetricsProvider {
  if (url) return createPrometheusProvider({ url, ...opts });
  const notConfigured = { kind: 'error', message: 'Prometheus is not configured (set PAVED_PROMETHEUS_URL)', unavailable: true } as const;
  return { query: () => Promise.resolve(notConfigured) };
}
