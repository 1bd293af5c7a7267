/** Pauses: entering one, resuming by request, and resuming by itself after a Prometheus outage. */
import { isProviderUnavailable } from '../../analysis/assess.js';
import type { AnalysisRun } from '../../analysis/types.js';
import { DeliveryReasons, type PauseReason, type RolloutState } from '../types.js';
import type { Planner } from './planner.js';
import { completeStep } from './steps.js';

/** Probing a Prometheus outage: first after this long, then backing off (a quarter of the outage so far)... */
export const OUTAGE_PROBE_MIN_MS = 2_000;
/** ...up to this. */
export const OUTAGE_PROBE_MAX_MS = 60_000;

/**
 * The analysis run a rollout is paused on because Prometheus did not answer (its erroring metrics' last
 * measurements say "Prometheus unavailable"), or undefined. Such a pause resumes by itself once
 * Prometheus answers; a pause on no data, or on a query Prometheus rejects, waits for someone.
 */
export function outageRun(state: RolloutState | undefined): AnalysisRun | undefined {
  if (state?.phase !== 'Paused' || state.pauseReason !== 'AnalysisError') return undefined;
  const run = state.history.at(-1);
  if (!run || run.phase !== 'Error') return undefined;
  const erroring = run.metrics.filter((m) => m.phase === 'Error');
  return erroring.length > 0 && erroring.every((m) => isProviderUnavailable(m.measurements.at(-1))) ? run : undefined;
}

/** How long after `pausedAt` to probe Prometheus again (backoff from the pause's age). Pure. */
export function outageProbeAfterMs(state: RolloutState, now: Date): number {
  const age = state.pausedAt === undefined ? 0 : now.getTime() - Date.parse(state.pausedAt);
  return Math.min(OUTAGE_PROBE_MAX_MS, Math.max(OUTAGE_PROBE_MIN_MS, Math.floor(age / 4)));
}

export function pause(p: Planner, reason: PauseReason, message: string): void {
  const again = p.prev.phase === 'Paused' && p.prev.pauseReason === reason && p.prev.message === message;
  p.state.phase = 'Paused';
  p.state.pauseReason = reason;
  p.state.pausedAt = again ? (p.prev.pausedAt ?? p.nowIso) : p.nowIso;
  p.state.message = message;
  if (again) return;
  p.records.push({ kind: 'paused', reason });
  p.event(reason === 'PauseStep' || reason === 'Manual' ? 'Normal' : 'Warning', DeliveryReasons[`RolloutPaused${reason}`], message);
}

export function resume(p: Planner, ignore: (why: string) => void): void {
  if (p.state.phase !== 'Paused') return ignore(`nothing to resume in phase ${p.state.phase}`);
  const reason = p.state.pauseReason;
  p.clearPause();
  p.state.phase = 'Progressing';
  const step = p.spec.steps[p.state.stepIndex];
  if (reason === 'PauseStep' && step) completeStep(p, step);
  else if (reason !== 'Manual') {
    // An inconclusive or erroring analysis is measured afresh; the old run stays in the history.
    p.archiveRun('resumed');
    p.state.attempt += 1;
    p.state.stepStartedAt = p.nowIso;
  }
  p.state.message = `resumed at step ${p.state.stepIndex + 1} of ${p.spec.steps.length}`;
  p.event('Normal', DeliveryReasons.RolloutResumed, p.state.message);
}

/** Paused because Prometheus did not answer: resume once it answers again, else probe again later. */
export function handleOutage(p: Planner): void {
  if (!outageRun(p.state)) return;
  if (p.obs.providerAnswers !== true) {
    p.requeue(outageProbeAfterMs(p.state, p.now));
    return;
  }
  p.clearPause();
  p.state.phase = 'Progressing';
  p.archiveRun('resumed');
  p.state.attempt += 1;
  p.state.stepStartedAt = p.nowIso;
  p.state.message = `Prometheus answers again: resumed at step ${p.state.stepIndex + 1} of ${p.spec.steps.length}`;
  p.event('Normal', DeliveryReasons.RolloutResumed, p.state.message);
}
