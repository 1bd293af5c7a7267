/**
 * Manual rollout controls: promote (a step, or `full`), abort, retry, pause, resume, as the value of the
 * `paved.dev/rollout-action` annotation the rollout planner reads. The API server and kubectl-paved both
 * set it through `controlAnnotation`, so they have one semantics. Each request gets a distinct `@id`
 * suffix so that repeating an action (promote twice) is seen as two requests.
 */
import { randomBytes } from 'node:crypto';
import { ROLLOUT_ACTION_ANNOTATION, type RolloutVerb } from './types.js';

/** The actions of `POST .../webservices/{name}/{action}` and `kubectl paved <action>`. */
export const CONTROL_ACTIONS = ['promote', 'abort', 'retry', 'pause', 'resume'] as const;
export type ControlAction = (typeof CONTROL_ACTIONS)[number];

/** The annotation value for an action (`promote-full@<id>` when `full`). */
export function controlAnnotation(action: ControlAction, full: boolean, id = randomBytes(6).toString('hex')): Record<string, string> {
  const verb: RolloutVerb = action === 'promote' && full ? 'promote-full' : action;
  return { [ROLLOUT_ACTION_ANNOTATION]: `${verb}@${id}` };
}
