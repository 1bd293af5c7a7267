/** Rollback: traffic back to the stable revision, with a failure report naming why. */
import type { AnalysisRun, MetricRun } from '../../analysis/types.js';
import { DeliveryReasons, type FailureReport, type RollbackReason } from '../types.js';
import type { Planner } from './planner.js';

export function rollback(p: Planner, reason: RollbackReason, message: string, details: Partial<FailureReport> = {}, onsetIso?: string): void {
  p.archiveRun('rolled back');
  p.archiveBackground('rolled back');
  p.clearPause();
  const s = p.state;
  s.phase = 'RolledBack';
  s.weight = 0;
  if (s.canaryRevision !== undefined) s.failedRevision = s.canaryRevision;
  s.failure = { reason, message, at: p.nowIso, ...details };
  s.rolledBackAt = p.nowIso;
  s.message = message;
  delete s.canaryScaleDownAt;
  p.records.push({
    kind: 'rolledBack',
    reason,
    ...(onsetIso !== undefined ? { failureOnsetToRollbackMs: p.since(onsetIso) } : {}),
  });
  p.event('Warning', reason === 'Aborted' ? DeliveryReasons.RolloutAborted : DeliveryReasons.RolloutRolledBack, message);
}

/** Rolls back on a failed run, naming the failing metric, its value, the condition, the query and when. */
export function failRun(p: Planner, run: AnalysisRun): void {
  const s = p.state;
  const metric = run.metrics.find((m) => m.phase === 'Failed') as MetricRun;
  const last = [...metric.measurements].reverse().find((m) => m.phase === 'Failed');
  const onset = metric.measurements.find((m) => m.phase === 'Failed')?.at;
  const value = last?.value !== undefined ? String(last.value) : (last?.message ?? 'n/a');
  const stable = last?.stableValue !== undefined ? ` (stable ${last.stableValue})` : '';
  rollback(p, 
    'AnalysisFailed',
    `metric ${metric.name} failed at ${s.weight}%: value ${value}${stable} breaks "${metric.condition}" (${metric.failed} failures, query: ${metric.query.trim()})`,
    {
      metric: metric.name,
      template: metric.template,
      ...(last?.value !== undefined ? { value: last.value } : {}),
      ...(last?.stableValue !== undefined ? { stableValue: last.stableValue } : {}),
      condition: metric.condition,
      query: metric.query,
      ...(last ? { measuredAt: last.at } : {}),
    },
    onset,
  );
}
