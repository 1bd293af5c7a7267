/** The writes that realise a rollout state, in a safe order (pure). */
import { canaryReplicas } from '../scaling.js';
import type { Action, DeliverySpec, Observations, RolloutState } from '../types.js';

/**
 * The writes that realise `state` (pure; also what the WebService renderer is given through the
 * delivery seam, see render-input.ts). Level-triggered: the same state and observations always give the
 * same writes, so a restarted controller re-derives them. Order: the stable Deployment, then the canary
 * when it only grows (pods before traffic), then the route weight, then the canary when it shrinks or
 * changes template (traffic leaves before pods go). When the live route still sends the canary more
 * than `state.weight` (Gateway API), the canary keeps its pods until the route has been updated.
 */
export function desiredWrites(state: RolloutState, obs: Observations, spec: DeliverySpec): Action[] {
  const s = state;
  const stable: Action =
    s.phase === 'Promoting'
      ? promotedStable(s.canaryRevision ?? '', obs, s.stableRevision)
      : { type: 'applyStable', template: s.stableRevision === obs.desiredRevision ? 'desired' : 'stable', revision: s.stableRevision };
  const canary = canaryWrite(s, obs, spec);
  const weight: Action = { type: 'setWeight', weight: s.weight };
  const live = obs.canary;
  if (!canary) return [stable, weight];
  const grows = live !== undefined && canary.revision === live.revision && canary.replicas >= live.replicas;
  if (!live || grows) return [stable, canary, weight];
  // Shrinks or changes template: only once the route no longer sends the canary more than the state says.
  const routeAhead = obs.trafficMode === 'gatewayAPI' && obs.routeWeight !== undefined && obs.routeWeight > s.weight;
  const held: Action = { type: 'applyCanary', template: 'live', revision: live.revision ?? canary.revision, replicas: live.replicas };
  return [stable, weight, routeAhead ? held : canary];
}

/**
 * The canary Deployment's write: during a rollout, enough pods for the larger of the current weight and
 * the step's target; otherwise the live canary, kept while promoting or until its scale-down time, else 0.
 */
function canaryWrite(s: RolloutState, obs: Observations, spec: DeliverySpec): Extract<Action, { type: 'applyCanary' }> | undefined {
  const stableReplicas = obs.stable?.replicas ?? 0;
  const mode = obs.trafficMode;
  if (s.phase === 'Progressing' || s.phase === 'Paused') {
    const step = spec.steps[s.stepIndex];
    const stepWant = step && 'setWeight' in step && s.phase === 'Progressing' ? canaryReplicas(stableReplicas, step.setWeight, mode) : 0;
    const replicas = Math.max(canaryReplicas(stableReplicas, s.weight, mode), stepWant);
    const revision = s.canaryRevision ?? '';
    return { type: 'applyCanary', template: revision === obs.desiredRevision ? 'desired' : 'live', revision, replicas };
  }
  if (!obs.canary) return undefined;
  const keep = s.phase === 'Promoting' || s.canaryScaleDownAt !== undefined;
  const replicas = keep ? Math.max(canaryReplicas(stableReplicas, s.weight, mode), obs.canary.replicas) : 0;
  return { type: 'applyCanary', template: 'live', revision: obs.canary.revision ?? s.canaryRevision ?? '', replicas };
}

/**
 * The stable write while promoting `revision`: its template comes from whoever holds it, the spec, the
 * live canary, or the stable Deployment that already took it. A `promote --full` of a superseded
 * canary promotes the desired revision while the canary Deployment still runs the older one; if the
 * spec then moves on, copying the canary would put a never-analysed template on stable under the
 * promoted revision's name. When nothing holds it any more, the stable stays as it is.
 */
function promotedStable(revision: string, obs: Observations, stableRevision: string): Extract<Action, { type: 'applyStable' }> {
  if (revision === obs.desiredRevision) return { type: 'applyStable', template: 'desired', revision };
  if (obs.canary?.revision === revision) return { type: 'applyStable', template: 'canary', revision };
  if (obs.stable?.revision === revision) return { type: 'applyStable', template: 'stable', revision };
  return { type: 'applyStable', template: 'stable', revision: obs.stable?.revision ?? stableRevision };
}
