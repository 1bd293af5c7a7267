/**
 * The rollout as readers outside delivery see it (pure): `status.rollout` of a WebService as the typed
 * RolloutState (src/delivery's own reader, so a shape the planner would not resume from reads as "no
 * rollout"), and the delivery steps with src/delivery/spec.ts's defaults (five default steps:
 * 10 -> analysis -> 50 -> analysis -> 100). The server's view and the CLI read through this module and
 * apply no defaults of their own.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { AnalysisRun } from '../analysis/types.js';
import type { WebService } from '../api/index.js';
import { InvalidSpecError } from '../errors.js';
import { readRolloutState } from './observe.js';
import { normalizeDelivery, type DeliverySpecInput } from './spec.js';
import type { RolloutState, Step } from './types.js';

/** What a reader needs about one WebService's rollout. */
export interface RolloutReading {
  /** `status.rollout`, typed; undefined when absent or not a rollout state. */
  state: RolloutState | undefined;
  /** The delivery steps with defaults applied; undefined when `spec.delivery` is invalid. */
  steps: readonly Step[] | undefined;
  /** Number of steps: the controller's `stepCount`, else the normalized steps' count. */
  stepCount: number;
}

/** `status.rollout` of a WebService as the typed RolloutState (see the module header). */
export function readRollout(ws: WebService | KubernetesObject): RolloutState | undefined {
  return readRolloutState(ws as WebService);
}

/** The delivery steps of a WebService with the defaults of spec.ts; undefined when the spec is invalid. */
export function readDeliverySteps(ws: WebService | KubernetesObject): readonly Step[] | undefined {
  const delivery = (ws as WebService).spec?.delivery as DeliverySpecInput | undefined;
  try {
    return normalizeDelivery(delivery).steps;
  } catch (err) {
    if (err instanceof InvalidSpecError) return undefined;
    throw err;
  }
}

/** The rollout state, the steps and their count. */
export function readRolloutOf(ws: WebService | KubernetesObject): RolloutReading {
  const state = readRollout(ws);
  const steps = readDeliverySteps(ws);
  const raw = (ws as WebService).spec?.delivery?.steps;
  return { state, steps, stepCount: state?.stepCount ?? steps?.length ?? raw?.length ?? 0 };
}

/** The current analysis run, else the last finished one. */
export function latestAnalysisRun(state: RolloutState | undefined): AnalysisRun | undefined {
  return state?.currentRun ?? state?.history[state.history.length - 1];
}
