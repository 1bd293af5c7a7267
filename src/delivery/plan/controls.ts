/** Manual controls (the `paved.dev/rollout-action` annotation): pause, resume, promote, abort, retry. */
import { DeliveryReasons, type RolloutVerb } from '../types.js';
import { pause, resume } from './pause.js';
import type { Planner } from './planner.js';
import { startPromotion } from './promote.js';
import { rollback } from './rollback.js';
import { startRollout } from './start.js';
import { completeStep } from './steps.js';

/** Parses a `paved.dev/rollout-action` value: "promote", "promote --full", "promote-full", "abort", ... (an optional "@id" suffix makes a repeated action distinct). */
export function parseAction(value: string): RolloutVerb | undefined {
  const v = value.trim().toLowerCase().split('@')[0]?.trim() ?? '';
  if (/^promote([-_: ]+|\s+--)full$/.test(v)) return 'promote-full';
  const verbs: readonly RolloutVerb[] = ['promote', 'abort', 'retry', 'pause', 'resume'];
  return verbs.find((verb) => verb === v);
}

export function handleAction(p: Planner): void {
  const raw = p.obs.action;
  if (raw === undefined) {
    delete p.state.handledAction;
    return;
  }
  if (raw === p.state.handledAction) return;
  p.state.handledAction = raw;
  const verb = parseAction(raw);
  const phase = p.state.phase;
  const active = phase === 'Progressing' || phase === 'Paused';
  const ignore = (why: string) => p.event('Warning', DeliveryReasons.RolloutActionIgnored, `${raw}: ${why}`);
  switch (verb) {
    case undefined:
      return ignore('unknown action (use promote, promote --full, abort, retry, pause or resume)');
    case 'pause':
      if (phase !== 'Progressing') return ignore(`nothing to pause in phase ${phase}`);
      return pause(p, 'Manual', 'paused by request (paved.dev/rollout-action=pause)');
    case 'resume':
      return resume(p, ignore);
    case 'promote': {
      if (!active) return ignore(`nothing to promote in phase ${phase}`);
      const step = p.spec.steps[p.state.stepIndex];
      p.archiveRun('skipped by promote');
      p.clearPause();
      p.state.phase = 'Progressing';
      if (step) completeStep(p, step);
      p.event('Normal', DeliveryReasons.RolloutStepPromoted, `step ${p.state.stepIndex} of ${p.spec.steps.length} skipped by request`);
      return;
    }
    case 'promote-full':
      if (!active) return ignore(`nothing to promote in phase ${phase}`);
      return startPromotion(p, 'full promotion requested');
    case 'abort':
      if (!active) return ignore(`nothing to abort in phase ${phase}`);
      return rollback(p, 'Aborted', `revision ${p.state.canaryRevision} aborted by request; traffic is back on the stable revision`);
    case 'retry':
      if (phase !== 'RolledBack') return ignore(`only a rolled-back rollout can be retried (phase ${phase})`);
      return startRollout(p, p.obs.desiredRevision, 'retry requested');
  }
}
