/** Advancing through the steps: a weight (pods Ready first), a pause step, an analysis step. */
import { canaryReplicas } from '../scaling.js';
import { DeliveryReasons, type Step } from '../types.js';
import { background, stepAnalysis } from './analysis.js';
import { POLL_MS, type Planner } from './planner.js';
import { pause } from './pause.js';
import { startPromotion } from './promote.js';
import { canaryRevisionReady, isCanaryReady } from './readiness.js';
import { rollback } from './rollback.js';

function stepType(step: Step): string {
  return 'setWeight' in step ? 'setWeight' : 'pause' in step ? 'pause' : 'analysis';
}

export function progress(p: Planner): void {
  if (!background(p)) return;
  // Each pass either finishes a step and continues, or waits and returns.
  for (let guard = 0; guard <= p.spec.steps.length + 1 && p.state.phase === 'Progressing'; guard++) {
    const step = p.spec.steps[p.state.stepIndex];
    if (!step) return startPromotion(p, 'all steps passed');
    const done =
      'setWeight' in step ? stepWeight(p, step.setWeight) : 'pause' in step ? stepPause(p, step.pause.durationMs) : stepAnalysis(p);
    if (!done) return;
    completeStep(p, step);
  }
}

export function completeStep(p: Planner, step: Step): void {
  p.records.push({
    kind: 'stepCompleted',
    step: p.state.stepIndex,
    stepType: stepType(step),
    durationMs: p.since(p.state.stepStartedAt),
  });
  p.state.stepIndex += 1;
  p.state.stepStartedAt = p.nowIso;
  p.state.attempt = 0;
}

/** Scale the canary for the weight, wait until its pods are Ready, then move the weight. */
export function stepWeight(p: Planner, weight: number): boolean {
  const want = canaryReplicas(p.stableReplicas, weight, p.obs.trafficMode);
  if (want === 0 || isCanaryReady(p.obs.canary, p.state.canaryRevision, want)) {
    if (weight !== p.state.weight) {
      p.event('Normal', DeliveryReasons.RolloutWeightSet, `canary weight ${p.state.weight}% -> ${weight}% (${want} canary pods Ready)`);
    }
    // Background analysis starts once the canary serves: look again at once rather than a step later.
    if (p.spec.background && p.state.weight === 0 && weight > 0) p.requeue(0);
    p.state.weight = weight;
    return true;
  }
  const waited = p.since(p.state.stepStartedAt);
  const ready = canaryRevisionReady(p.obs.canary, p.state.canaryRevision);
  if (waited >= p.spec.progressDeadlineMs) {
    rollback(p, 
      'ProgressDeadlineExceeded',
      `the canary of revision ${p.state.canaryRevision} was not Ready within ${p.spec.progressDeadlineMs / 1000}s (${ready}/${want} pods Ready for ${weight}%)`,
    );
    return false;
  }
  p.state.message = `step ${p.state.stepIndex + 1}/${p.spec.steps.length}: waiting for ${want} canary pods to be Ready for ${weight}% (${ready} Ready)`;
  p.requeue(Math.min(POLL_MS, p.spec.progressDeadlineMs - waited));
  return false;
}

export function stepPause(p: Planner, durationMs: number | undefined): boolean {
  if (durationMs === undefined) {
    pause(p, 'PauseStep', `step ${p.state.stepIndex + 1}/${p.spec.steps.length}: paused until promoted or resumed`);
    return false;
  }
  const left = durationMs - p.since(p.state.stepStartedAt);
  if (left <= 0) return true;
  p.state.message = `step ${p.state.stepIndex + 1}/${p.spec.steps.length}: pausing for ${Math.ceil(left / 1000)}s more`;
  p.requeue(left);
  return false;
}
