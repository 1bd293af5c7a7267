/**
 * Status conditions in metav1.Condition shape (pure). `setCondition` keeps `lastTransitionTime` when the
 * status did not change, so rewriting the same condition on every reconcile causes no status write.
 */

/** metav1.ConditionStatus. */
export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** metav1.Condition (timestamps as RFC 3339 strings, seconds precision, as the API server stores them). */
export interface Condition {
  type: string;
  status: ConditionStatus;
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** A condition to set: everything but the transition time, which `setCondition` manages. */
export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

/** The standard condition types. */
export const ConditionType = {
  Ready: 'Ready',
  Progressing: 'Progressing',
  Degraded: 'Degraded',
} as const;

/** Formats a time the way metav1.Time serialises (no fractional seconds). */
function formatTime(now: Date | string | number): string {
  const d = now instanceof Date ? now : new Date(now);
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Returns a new list with `input` set. When a condition of that type exists with the same status,
 * its `lastTransitionTime` is kept (reason, message and observedGeneration are updated); otherwise
 * the transition time is `now`. Order is stable: existing types keep their position, new ones append.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  input: ConditionInput,
  now: Date | string | number,
): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === input.type);
  const existing = i >= 0 ? list[i] : undefined;
  const next: Condition = {
    type: input.type,
    status: input.status,
    ...(input.observedGeneration !== undefined ? { observedGeneration: input.observedGeneration } : {}),
    lastTransitionTime:
      existing && existing.status === input.status ? existing.lastTransitionTime : formatTime(now),
    reason: input.reason,
    message: input.message,
  };
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}

/** The condition of a type, if present. */
export function getCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** True when the condition of that type exists with status True. */
export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return getCondition(conditions, type)?.status === 'True';
}

/** A change of one condition between two lists (for Events on transitions only). */
export interface ConditionTransition {
  type: string;
  from?: Condition;
  to: Condition;
}

/**
 * Conditions whose status or reason changed from `before` to `after` (new conditions included,
 * removed ones ignored). A message-only change is not a transition.
 */
export function conditionTransitions(
  before: readonly Condition[] | undefined,
  after: readonly Condition[] | undefined,
): ConditionTransition[] {
  const out: ConditionTransition[] = [];
  for (const to of after ?? []) {
    const from = getCondition(before, to.type);
    if (!from || from.status !== to.status || from.reason !== to.reason) {
      out.push(from ? { type: to.type, from, to } : { type: to.type, to });
    }
  }
  return out;
}

function build(type: string, ready: boolean | 'Unknown', reason: string, message: string, observedGeneration?: number): ConditionInput {
  return {
    type,
    status: ready === 'Unknown' ? 'Unknown' : ready ? 'True' : 'False',
    reason,
    message,
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
  };
}

/** A `Ready` condition input. */
export function readyCondition(status: boolean | 'Unknown', reason: string, message: string, observedGeneration?: number): ConditionInput {
  return build(ConditionType.Ready, status, reason, message, observedGeneration);
}

/** A `Progressing` condition input. */
export function progressingCondition(status: boolean | 'Unknown', reason: string, message: string, observedGeneration?: number): ConditionInput {
  return build(ConditionType.Progressing, status, reason, message, observedGeneration);
}

/** A `Degraded` condition input. */
export function degradedCondition(status: boolean | 'Unknown', reason: string, message: string, observedGeneration?: number): ConditionInput {
  return build(ConditionType.Degraded, status, reason, message, observedGeneration);
}
