/**
 * Rollout metrics for dashboards and the DORA figures, on the controller's registry (served on
 * /metrics by main.ts). The planner emits RolloutRecords (pure data); `recordRollout` turns them into
 * samples, so the metrics are exactly the planner's decisions.
 *
 * DORA inputs:
 * - deployment frequency: rate(paved_rollouts_succeeded_total)
 * - lead time for changes: paved_rollout_lead_time_seconds (from the spec change being picked up to
 *   promotion; add the CI time before it from your pipeline)
 * - change failure rate: paved_rollouts_rolled_back_total / paved_rollouts_started_total
 * - time to restore: paved_rollout_failure_to_rollback_seconds (failure onset, i.e. the first
 *   failed measurement, to traffic back on stable)
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { metricsRegistry } from '../kube/metrics.js';
import type { RolloutRecord } from './types.js';

const registers: Registry[] = [metricsRegistry];

export const deliveryMetrics = {
  started: new Counter({
    name: 'paved_rollouts_started_total',
    help: 'Rollouts started (a new pod template, a retry, or a restart after a spec change).',
    labelNames: ['namespace', 'service'] as const,
    registers,
  }),
  succeeded: new Counter({
    name: 'paved_rollouts_succeeded_total',
    help: 'Rollouts promoted (deployment frequency).',
    labelNames: ['namespace', 'service'] as const,
    registers,
  }),
  rolledBack: new Counter({
    name: 'paved_rollouts_rolled_back_total',
    help: 'Rollouts rolled back, by reason (AnalysisFailed, Aborted, ProgressDeadlineExceeded).',
    labelNames: ['namespace', 'service', 'reason'] as const,
    registers,
  }),
  paused: new Counter({
    name: 'paved_rollouts_paused_total',
    help: 'Rollouts paused, by reason (PauseStep, Manual, Inconclusive, AnalysisError, InvalidAnalysis).',
    labelNames: ['namespace', 'service', 'reason'] as const,
    registers,
  }),
  stepDuration: new Histogram({
    name: 'paved_rollout_step_duration_seconds',
    help: 'Time spent in a rollout step, by step type.',
    labelNames: ['step_type'] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
    registers,
  }),
  analysisResults: new Counter({
    name: 'paved_analysis_metric_results_total',
    help: 'Decided analysis metrics by metric, template and phase (Successful, Failed, Inconclusive, Error).',
    labelNames: ['metric', 'template', 'phase'] as const,
    registers,
  }),
  leadTime: new Histogram({
    name: 'paved_rollout_lead_time_seconds',
    help: 'From the start of a rollout to its promotion (DORA lead time, controller part).',
    buckets: [10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 21600],
    registers,
  }),
  failureToRollback: new Histogram({
    name: 'paved_rollout_failure_to_rollback_seconds',
    help: 'From the first failed measurement to traffic back on stable (DORA time to restore).',
    buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
    registers,
  }),
  analysisQueries: new Counter({
    name: 'paved_analysis_queries_total',
    help: 'Queries sent to Prometheus by outcome (value, noData, error).',
    labelNames: ['outcome'] as const,
    registers,
  }),
  analysisQueryDuration: new Histogram({
    name: 'paved_analysis_query_duration_seconds',
    help: 'Duration of one Prometheus query.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  }),
};

/** Records the planner's facts for one WebService. */
export function recordRollout(namespace: string, service: string, records: readonly RolloutRecord[]): void {
  const m = deliveryMetrics;
  for (const r of records) {
    switch (r.kind) {
      case 'started':
        m.started.inc({ namespace, service });
        break;
      case 'succeeded':
        m.succeeded.inc({ namespace, service });
        m.leadTime.observe(r.leadTimeMs / 1000);
        break;
      case 'rolledBack':
        m.rolledBack.inc({ namespace, service, reason: r.reason });
        if (r.failureOnsetToRollbackMs !== undefined) m.failureToRollback.observe(r.failureOnsetToRollbackMs / 1000);
        break;
      case 'paused':
        m.paused.inc({ namespace, service, reason: r.reason });
        break;
      case 'stepCompleted':
        m.stepDuration.observe({ step_type: r.stepType }, r.durationMs / 1000);
        break;
      case 'analysis':
        m.analysisResults.inc({ metric: r.metric, template: r.template, phase: r.phase });
        break;
    }
  }
}

/** The provider's per-query hook feeding the query metrics. */
export function recordQuery(outcome: string, durationMs: number): void {
  deliveryMetrics.analysisQueries.inc({ outcome });
  deliveryMetrics.analysisQueryDuration.observe(durationMs / 1000);
}
