/** Starting a rollout, and superseding or abandoning one when the desired revision changes. */
import { DeliveryReasons, type RolloutState } from '../types.js';
import type { Planner } from './planner.js';

export function startRollout(p: Planner, revision: string, why: string): void {
  p.archiveRun('a new rollout started');
  p.archiveBackground('a new rollout started');
  p.clearPause();
  const s = p.state;
  for (const k of ['failure', 'failedRevision', 'completedAt', 'canaryScaleDownAt', 'promotingSince'] as const) delete s[k];
  Object.assign(s, {
    phase: 'Progressing',
    canaryRevision: revision,
    stepIndex: 0,
    stepCount: p.spec.steps.length,
    weight: 0,
    attempt: 0,
    startedAt: p.nowIso,
    stepStartedAt: p.nowIso,
    message: `rolling out revision ${revision}`,
  } satisfies Partial<RolloutState>);
  p.records.push({ kind: 'started' });
  p.event('Normal', DeliveryReasons.RolloutStarted, `${why}: rolling out revision ${revision} in ${p.spec.steps.length} steps`);
}

export function handleRevision(p: Planner): void {
  const desired = p.obs.desiredRevision;
  const s = p.state;
  if (s.failedRevision !== undefined && desired !== s.failedRevision) delete s.failedRevision;
  // A promotion in flight finishes first: the stable Deployment is already taking that template.
  if (s.phase === 'Promoting') return;
  const active = s.phase === 'Progressing' || s.phase === 'Paused';
  if (desired === s.stableRevision) {
    if (active) {
      p.archiveRun('the spec went back to the stable revision');
      p.archiveBackground('the spec went back to the stable revision');
      p.clearPause();
      s.phase = 'Healthy';
      s.weight = 0;
      s.message = `the spec went back to the stable revision ${desired}; the canary was abandoned`;
      p.event('Normal', DeliveryReasons.RolloutAbandoned, s.message);
    } else if (s.phase === 'RolledBack') {
      s.phase = 'Healthy';
      s.message = `running the stable revision ${desired}`;
    }
    return;
  }
  if (active && s.canaryRevision === desired) return;
  if (s.phase === 'RolledBack' && desired === s.failedRevision) return;
  startRollout(p, desired, active ? `the spec changed during the rollout of ${s.canaryRevision}` : 'the pod template changed');
}
