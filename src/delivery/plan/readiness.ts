/** Readiness of the canary and stable Deployments, as the planner and the reconciler judge it (pure). */
import type { DeploymentObservation, Observations, RolloutState } from '../types.js';

/**
 * True when the canary Deployment runs `revision` with at least `want` Ready pods OF THAT REVISION:
 * pods of the previous template that a rolling update keeps Ready do not count (like isStableReady).
 */
export function isCanaryReady(canary: DeploymentObservation | undefined, revision: string | undefined, want: number): boolean {
  if (!canary || canary.revision !== revision) return false;
  return (
    canary.observedGeneration >= canary.generation &&
    canary.replicas >= want &&
    canary.updatedReplicas >= want &&
    canary.revisionReadyReplicas >= want
  );
}

/**
 * True when the canary serves traffic: a weight above 0 and Ready pods of its own revision. Background
 * analysis measures only then (before, every reading would be "no data" and pause the rollout).
 */
export function canaryServes(state: RolloutState, obs: Pick<Observations, 'canary'>): boolean {
  return state.weight > 0 && canaryRevisionReady(obs.canary, state.canaryRevision) > 0;
}

/** Ready pods of the canary revision under rollout (0 when the canary Deployment runs another one). */
export function canaryRevisionReady(canary: DeploymentObservation | undefined, revision: string | undefined): number {
  return canary && canary.revision === revision ? canary.revisionReadyReplicas : 0;
}

/** True when the stable Deployment runs only `revision`, all of its pods Ready. */
export function isStableReady(stable: DeploymentObservation | undefined, revision: string | undefined): boolean {
  if (!stable || stable.revision !== revision) return false;
  return (
    stable.observedGeneration >= stable.generation &&
    stable.updatedReplicas >= stable.replicas &&
    stable.readyReplicas >= stable.replicas &&
    stable.statusReplicas <= stable.updatedReplicas
  );
}
