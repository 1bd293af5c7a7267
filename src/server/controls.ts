/**
 * Manual rollout controls through the API: promote (a step, or `full`), abort, retry, pause, resume.
 * They are the same annotation kubectl users set (`paved.dev/rollout-action`, read by src/delivery), so
 * the API and kubectl have one semantics. Each request gets a distinct `@id` suffix so that repeating
 * an action (promote twice) is seen as two requests.
 */
import { randomBytes } from 'node:crypto';
import { ROLLOUT_ACTION_ANNOTATION, type RolloutVerb } from '../delivery/types.js';

/** The actions of `POST .../webservices/{name}/{action}`. */
export const CONTROL_ACTIONS = ['promote', 'abort', 'retry', 'pause', 'resume'] as const;
export type ControlAction = (typeof CONTROL_ACTIONS)[number];

/** The annotation value for an action (`promote-full@<id>` when `full`). */
export function controlAnnotation(action: ControlAction, full: boolean, id = randomBytes(6).toString('hex')): Record<string, string> {
  const verb: RolloutVerb = action === 'promote' && full ? 'promote-full' : action;
  return { [ROLLOUT_ACTION_ANNOTATION]: `${verb}@${id}` };
}
