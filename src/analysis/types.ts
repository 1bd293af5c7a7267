/**
 * The shapes of analysis: a template's metrics (parsed with zod from AnalysisTemplate or
 * ClusterAnalysisTemplate objects, defaults identical to the CRD's), what a provider returns, and
 * the run state stored in the WebService status. The CRDs in crds/ are the source of truth; the
 * zod schema repeats their defaults so built-in templates read from disk behave like applied ones.
 */
import { z } from 'zod';

const duration = z.string().regex(/^([0-9]+(ms|s|m|h))+$/, 'a duration such as 30s, 1m or 1m30s');

/** One metric of a template, defaults applied. */
export const metricSpecSchema = z
  .object({
    name: z.string().min(1).max(63).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/),
    query: z.string().min(1).max(4096),
    successCondition: z.string().max(256).optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    comparison: z
      .object({ maxRatio: z.number().positive(), tolerance: z.number().min(0).default(0) })
      .optional(),
    interval: duration.default('1m'),
    window: duration.optional(),
    count: z.number().int().min(1).max(100).default(3),
    failureLimit: z.number().int().min(0).default(0),
    inconclusiveLimit: z.number().int().min(0).default(0),
    consecutiveErrorLimit: z.number().int().min(0).default(4),
  })
  .refine(
    (m) =>
      Number(m.successCondition !== undefined) +
        Number(m.min !== undefined || m.max !== undefined) +
        Number(m.comparison !== undefined) ===
      1,
    { message: 'set exactly one of successCondition, min/max, or comparison' },
  );

export type MetricSpec = z.infer<typeof metricSpecSchema>;

export const templateSpecSchema = z.object({
  metrics: z.array(metricSpecSchema).min(1).max(10),
});

export type TemplateSpec = z.infer<typeof templateSpecSchema>;

/** A reference from a WebService's delivery spec to a template. */
export interface TemplateRef {
  readonly name: string;
  /** true: ClusterAnalysisTemplate; false/absent: AnalysisTemplate in the WebService's namespace. */
  readonly clusterScope?: boolean;
}

/** A metric ready to run: its spec and the template it came from. */
export interface ResolvedMetric {
  readonly template: string;
  readonly metric: MetricSpec;
}

/** What a metrics provider returns for one query. Providers never throw. */
export type ProviderResult =
  | { readonly kind: 'value'; readonly value: number }
  | { readonly kind: 'noData' }
  /**
   * `unavailable`: Prometheus did not answer (connection refused, timeout, HTTP 5xx), which waiting can
   * cure; otherwise Prometheus answered with an error about the query (bad PromQL, an ambiguous result).
   */
  | { readonly kind: 'error'; readonly message: string; readonly unavailable?: boolean };

/** A measurement's verdict, and a metric's or a run's phase once decided. */
export type MeasurementPhase = 'Successful' | 'Failed' | 'Inconclusive' | 'Error';
export type RunPhase = 'Running' | MeasurementPhase;

/** One measurement as stored in status. */
export interface Measurement {
  phase: MeasurementPhase;
  /** RFC 3339 time of the measurement. */
  at: string;
  /** The canary's value (absent when no data or error). */
  value?: number;
  /** The stable track's value, for comparisons. */
  stableValue?: number;
  message?: string;
}

/** The state of one metric within an analysis run. */
export interface MetricRun {
  name: string;
  template: string;
  phase: RunPhase;
  /** The rendered canary query, so that a failure names exactly what was asked. */
  query: string;
  /** A readable form of the success criterion, e.g. "result <= 0.01" or "canary <= stable * 1.5 + 0". */
  condition: string;
  successful: number;
  failed: number;
  inconclusive: number;
  error: number;
  consecutiveErrors: number;
  /** The latest measurements, oldest first, at most MAX_MEASUREMENTS. */
  measurements: Measurement[];
  /** When the next measurement is due (RFC 3339); absent once decided. */
  nextMeasurementAt?: string;
  message?: string;
}

/** One analysis run (one analysis step of one revision). */
export interface AnalysisRun {
  /** Deterministic: `<revision>-<stepIndex>-<attempt>`. */
  id: string;
  revision: string;
  stepIndex: number;
  phase: RunPhase;
  startedAt: string;
  finishedAt?: string;
  message?: string;
  metrics: MetricRun[];
}

/** Measurements kept per metric in status (bounded so that status stays small). */
export const MAX_MEASUREMENTS = 10;
