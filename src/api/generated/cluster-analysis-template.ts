/* Generated from crds/paved.dev_clusteranalysistemplates.yaml by `npm run gen:types`. Do not edit. */
import type { V1ObjectMeta } from '@kubernetes/client-node';

/**
 * Metrics that gate a canary step. Each metric's PromQL query is a template rendered with the WebService's namespace, service name, track (canary|stable), revision and interval; a metric passes on a successCondition, min/max thresholds, or a comparison of canary against stable.
 */
export interface ClusterAnalysisTemplate {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec: {
    /**
     * The metrics measured together; the analysis fails as soon as one metric fails.
     *
     * @minItems 1
     * @maxItems 10
     */
    metrics: [
      {
        /**
         * Unique within the template; shown in the WebService status when it fails.
         */
        name: string;
        /**
         * PromQL returning one number. Placeholders {{namespace}}, {{service}}, {{track}}, {{revision}} and {{interval}} are replaced before the query is sent; label values are escaped. An empty result or NaN is "no data" (inconclusive).
         */
        query: string;
        /**
         * A condition on the measured value, e.g. "result < 0.01" or "result >= 0 && result <= 2". Comparisons (<, <=, >, >=, ==, !=) of `result` against a number, joined by && or ||.
         */
        successCondition?: string;
        /**
         * The measurement passes when value >= min (and <= max when max is set).
         */
        min?: number;
        /**
         * The measurement passes when value <= max (and >= min when min is set).
         */
        max?: number;
        /**
         * Compare the canary against the stable track: the query is run for both tracks and the measurement passes when canary <= stable * maxRatio + tolerance. Catches regressions that an absolute threshold misses on services that are always slow (or always a bit failing).
         */
        comparison?: {
          /**
           * The largest acceptable canary/stable ratio, e.g. 1.5.
           */
          maxRatio: number;
          /**
           * An absolute allowance added to stable * maxRatio (absorbs noise near zero).
           */
          tolerance?: number;
        };
        /**
         * Time between two measurements (Go-style duration, e.g. 30s, 1m).
         */
        interval?: string;
        /**
         * The PromQL range used for {{interval}} (defaults to interval). Keep it at least twice the scrape interval, or rate() has too few samples.
         */
        window?: string;
        /**
         * Measurements (errors excluded) after which the metric is decided.
         */
        count?: number;
        /**
         * Failed measurements tolerated; one more fails the analysis (rollback).
         */
        failureLimit?: number;
        /**
         * Inconclusive (no data) measurements tolerated; one more makes the analysis inconclusive and pauses the rollout. No data never counts as success.
         */
        inconclusiveLimit?: number;
        /**
         * Consecutive query errors (Prometheus down, timeout) tolerated; one more makes the analysis end in Error and pauses the rollout (it never promotes on errors).
         */
        consecutiveErrorLimit?: number;
      },
      ...{
        /**
         * Unique within the template; shown in the WebService status when it fails.
         */
        name: string;
        /**
         * PromQL returning one number. Placeholders {{namespace}}, {{service}}, {{track}}, {{revision}} and {{interval}} are replaced before the query is sent; label values are escaped. An empty result or NaN is "no data" (inconclusive).
         */
        query: string;
        /**
         * A condition on the measured value, e.g. "result < 0.01" or "result >= 0 && result <= 2". Comparisons (<, <=, >, >=, ==, !=) of `result` against a number, joined by && or ||.
         */
        successCondition?: string;
        /**
         * The measurement passes when value >= min (and <= max when max is set).
         */
        min?: number;
        /**
         * The measurement passes when value <= max (and >= min when min is set).
         */
        max?: number;
        /**
         * Compare the canary against the stable track: the query is run for both tracks and the measurement passes when canary <= stable * maxRatio + tolerance. Catches regressions that an absolute threshold misses on services that are always slow (or always a bit failing).
         */
        comparison?: {
          /**
           * The largest acceptable canary/stable ratio, e.g. 1.5.
           */
          maxRatio: number;
          /**
           * An absolute allowance added to stable * maxRatio (absorbs noise near zero).
           */
          tolerance?: number;
        };
        /**
         * Time between two measurements (Go-style duration, e.g. 30s, 1m).
         */
        interval?: string;
        /**
         * The PromQL range used for {{interval}} (defaults to interval). Keep it at least twice the scrape interval, or rate() has too few samples.
         */
        window?: string;
        /**
         * Measurements (errors excluded) after which the metric is decided.
         */
        count?: number;
        /**
         * Failed measurements tolerated; one more fails the analysis (rollback).
         */
        failureLimit?: number;
        /**
         * Inconclusive (no data) measurements tolerated; one more makes the analysis inconclusive and pauses the rollout. No data never counts as success.
         */
        inconclusiveLimit?: number;
        /**
         * Consecutive query errors (Prometheus down, timeout) tolerated; one more makes the analysis end in Error and pauses the rollout (it never promotes on errors).
         */
        consecutiveErrorLimit?: number;
      }[],
    ];
  };
}
