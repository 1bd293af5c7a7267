/**
 * The rollout as WebService conditions (pure), for the WebService reconciler to set next to its own
 * (it owns `status.conditions`): `Progressing` (True while a rollout moves; False when paused or rolled
 * back, with the reason and message of status.rollout) and `Degraded` (True after a rollback or when
 * an analysis cannot be measured). Reasons come from src/kube/reasons.ts.
 */
import { degradedCondition, progressingCondition, type ConditionInput } from '../kube/conditions.js';
import { Reasons } from '../kube/reasons.js';
import type { RolloutState } from './types.js';

/** The Progressing and Degraded conditions a rollout state implies. */
export function rolloutConditions(state: RolloutState | undefined, observedGeneration?: number): ConditionInput[] {
  if (!state) return [];
  const msg = state.message ?? '';
  switch (state.phase) {
    case 'Progressing':
    case 'Promoting':
      return [
        progressingCondition(true, Reasons.RolloutProgressing, msg, observedGeneration),
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
        progressingCondition(false, reason, msg, observedGeneration),
        degradedCondition(measuring, reason, measuring ? msg : 'paused', observedGeneration),
      ];
    }
    case 'RolledBack':
      return [
        progressingCondition(false, state.failure?.reason === 'Aborted' ? Reasons.RolloutAborted : Reasons.RolledBack, msg, observedGeneration),
        degradedCondition(true, state.failure?.reason === 'AnalysisFailed' ? Reasons.AnalysisFailed : Reasons.RolledBack, msg, observedGeneration),
      ];
    case 'Healthy':
      return [
        progressingCondition(false, Reasons.RolloutCompleted, msg || `running revision ${state.stableRevision}`, observedGeneration),
        degradedCondition(false, Reasons.RolloutCompleted, 'the stable revision serves all traffic', observedGeneration),
      ];
  }
}
