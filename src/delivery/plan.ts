/**
 * The rollout state machine. `plan(state, observations, spec, now)` is pure: it reads the rollout
 * state from `status.rollout`, what the reconciler observed and the normalized delivery spec, and
 * returns the next state, the writes that bring the world to it (in a safe order), Events, metric
 * records and when to look again. It never reads a clock and never does I/O; a measurement is an
 * observation taken by the reconciler just before.
 *
 * Phases: Healthy (stable serves, nothing to roll out) -> Progressing (the steps) <-> Paused (pause
 * step, manual, inconclusive or erroring analysis) -> Promoting (the stable Deployment takes the
 * new template while the canary still serves) -> Healthy; or -> RolledBack (failed analysis, abort,
 * progress deadline) until the spec changes or someone asks for a retry.
 *
 * Safety rules, each covered by a unit test:
 * - the route weight only ever follows `state.weight`, which rises only after the canary pods for
 *   the new weight are Ready (pods of the new revision: older ones a rolling update keeps do not
 *   count), and drops to 0 at promotion only after the stable Deployment is Ready with the new
 *   template (so at no moment does neither side serve);
 * - background analysis measures only while the canary serves traffic; a step advances only on a
 *   successful latest measurement (advanceRule RequireLatestSuccess);
 * - a pause on a Prometheus outage resumes by itself once Prometheus answers; one on no data waits;
 * - a rollback sets weight 0 (all traffic to the stable, which never changed) and scales the canary
 *   to 0 after the route write;
 * - everything is in the state, so a restarted controller re-derives the same writes: it resumes at
 *   the same step and never moves traffic backwards.
 */
import type { DeliverySpec, Observations, Plan, RolloutState } from './types.js';
import { handleAction } from './plan/controls.js';
import { handleOutage } from './plan/pause.js';
import { Planner } from './plan/planner.js';
import { idle, promote } from './plan/promote.js';
import { handleRevision } from './plan/start.js';
import { progress } from './plan/steps.js';
import { desiredWrites } from './plan/writes.js';

// The phases live in plan/ (a file each); this module is the entry and keeps the planner's public API.
export { parseAction } from './plan/controls.js';
export { OUTAGE_PROBE_MAX_MS, OUTAGE_PROBE_MIN_MS, outageProbeAfterMs, outageRun } from './plan/pause.js';
export { POLL_MS } from './plan/planner.js';
export { canaryRevisionReady, canaryServes, isCanaryReady, isStableReady } from './plan/readiness.js';
export { desiredWrites } from './plan/writes.js';

/** True when the analyses the current step needs (its own, and the background one) resolve now. */
function analysisResolvable(state: RolloutState, obs: Observations, spec: DeliverySpec): boolean {
  const ok = (a: { metrics: unknown } | { error: string } | undefined) => a !== undefined && !('error' in a);
  const step = spec.steps[state.stepIndex];
  const stepOk = !step || !('analysis' in step) || ok(obs.analysis?.get(state.stepIndex));
  const bg = spec.background;
  const bgOk = !bg || state.stepIndex < bg.startingStep || ok(obs.background);
  return stepOk && bgOk;

}

/** The initial state: whatever the stable Deployment runs is stable; before the first deploy, the desired revision is. */
export function initialState(obs: Observations, spec: DeliverySpec): RolloutState {
  return {
    phase: 'Healthy',
    stableRevision: obs.stable?.revision ?? obs.desiredRevision,
    stepIndex: 0,
    stepCount: spec.steps.length,
    weight: 0,
    attempt: 0,
    history: [],
  };
}

/** Decides the next rollout state and the writes that realise it. Pure. */
export function plan(prev: RolloutState | undefined, obs: Observations, spec: DeliverySpec, now: Date): Plan {
  const p = new Planner(prev ?? initialState(obs, spec), obs, spec, now);
  handleAction(p);
  handleRevision(p);
  switch (p.state.phase) {
    case 'Progressing':
      progress(p);
      break;
    case 'Promoting':
      promote(p);
      break;
    case 'Healthy':
      idle(p);
      break;
    case 'Paused':
      // Templates that were missing or invalid and are fine now: carry on by themselves.
      if (p.state.pauseReason === 'InvalidAnalysis' && analysisResolvable(p.state, obs, spec)) {
        p.clearPause();
        p.state.phase = 'Progressing';
        progress(p);
      } else if (p.state.pauseReason === 'AnalysisError') {
        // Prometheus was unavailable: carry on by itself once it answers again.
        handleOutage(p);
        if ((p.state.phase as RolloutState['phase']) === 'Progressing') progress(p);
      }
      break;
    case 'RolledBack':
      break;
  }
  return {
    state: p.state,
    actions: desiredWrites(p.state, obs, spec),
    events: p.events,
    records: p.records,
    ...(p.requeueAfterMs !== undefined ? { requeueAfterMs: p.requeueAfterMs } : {}),
  };
}
