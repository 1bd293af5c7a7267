/**
 * The rollout as WebService conditions (pure): `Progressing` (True while a rollout moves, with the step
 * and the weight; False when paused or done, with the reason and message of status.rollout) and
 * `Degraded` (True after a rollback, naming the metric and its value, or when an analysis cannot be
 * measured). The WebService reconcile sets them from the rollout state it writes in the same status
 * write, so `kubectl get ws` / `kubectl wait --for=condition=Degraded` always agree with the rollout
 * state. Reasons come from src/kube/reasons.ts.
 */
import { degradedCondition, progressingCondition, setCondition, type Condition, type ConditionInput } from '../kube/conditions.js';
import { Reasons } from '../kube/reasons.js';
import type { FailureReport, RolloutState } from './types.js';

/** "step 2/5 at 10%": where a rollout is. */
export function describePosition(state: RolloutState): string {
  const count = state.stepCount ?? 0;
  const step = count > 0 ? `step ${Math.min(state.stepIndex + 1, count)}/${count}` : `step ${state.stepIndex + 1}`;
  return `${step} at ${state.weight}%`;
}

/** "rolled back (AnalysisFailed): metric error-rate value 0.5 breaks ...": why a rollout was rolled back. */
function describeFailure(failure: FailureReport | undefined, fallback: string): string {
  if (!failure) return `rolled back: ${fallback}`;
  const metric = failure.metric !== undefined ? ` (metric ${failure.metric}${failure.value !== undefined ? ` = ${failure.value}` : ''})` : '';
  return `rolled back, ${failure.reason}${metric}: ${failure.message}`;
}

/** The Progressing and Degraded conditions a rollout state implies. */
export function rolloutConditions(state: RolloutState | undefined, observedGeneration?: number): ConditionInput[] {
  if (!state) return [];
  const msg = state.message ?? '';
  const where = describePosition(state);
  switch (state.phase) {
    case 'Progressing':
    case 'Promoting':
      return [
        progressingCondition(true, Reasons.RolloutProgressing, `${state.phase === 'Promoting' ? 'promoting' : where}: ${msg}`, observedGeneration),
        degradedCondition(false, Reasons.RolloutProgressing, 'rollout in progress', observedGeneration),
      ];
    case 'Paused': {
      const measuring = state.pauseReason === 'AnalysisError' || state.pauseReason === 'InvalidAnalysis';
      const reason =
        state.pauseReason === 'Inconclusive'
          ? Reasons.AnalysisInconclusive
          : state.pauseReason === 'AnalysisError'
            ? Reasons.PrometheusUnavailable
            : Reasons.RolloutPaused;
      return [
        progressingCondition(false, reason, `paused at ${where}: ${msg}`, observedGeneration),
        degradedCondition(measuring, reason, measuring ? msg : 'paused', observedGeneration),
      ];
    }
    case 'RolledBack':
      return [
        progressingCondition(false, state.failure?.reason === 'Aborted' ? Reasons.RolloutAborted : Reasons.RolledBack, msg, observedGeneration),
        degradedCondition(
          true,
          state.failure?.reason === 'AnalysisFailed' ? Reasons.AnalysisFailed : Reasons.RolledBack,
          describeFailure(state.failure, msg),
          observedGeneration,
        ),
      ];
    case 'Healthy':
      return [
        progressingCondition(false, Reasons.RolloutCompleted, msg || `running revision ${state.stableRevision}`, observedGeneration),
        degradedCondition(false, Reasons.RolloutCompleted, 'the stable revision serves all traffic', observedGeneration),
      ];
  }
}

/** `conditions` with Progressing and Degraded set from `state` (transition times kept when unchanged). */
export function withRolloutConditions(
  conditions: readonly Condition[] | undefined,
  state: RolloutState | undefined,
  observedGeneration: number | undefined,
  now: Date | string | number,
): Condition[] {
  let out = [...(conditions ?? [])];
  for (const c of rolloutConditions(state, observedGeneration)) out = setCondition(out, c, now);
  return out;
}
