/**
 * Budgets act (pure part): from the status last written on the Team and the new figures, decide the
 * new status and whether this evaluation is a crossing. A crossing (status differs from the one
 * recorded in the Team's `WithinBudget` condition) writes the condition, emits one Event and counts
 * one metric increment; evaluating again with the same status does nothing. The state lives in the
 * condition, so a restarted controller does not emit again.
 */
import type { Condition, ConditionInput } from '../kube/conditions.js';
import type { BudgetStatus } from './model.js';
import { BudgetReasons } from '../kube/reasons.js';

/** The Team condition the budget evaluator owns. True while the projection stays under the warning threshold. */
export const BUDGET_CONDITION = 'WithinBudget';

/** Condition and Event reasons of the budget (to move into src/kube/reasons.ts). */
export { BudgetReasons } from '../kube/reasons.js';

const REASON_OF: Record<BudgetStatus, string> = {
  ok: BudgetReasons.BudgetOk,
  warning: BudgetReasons.BudgetWarning,
  over: BudgetReasons.BudgetExceeded,
};

/** The status recorded in a condition list (undefined when never evaluated). */
export function recordedBudgetStatus(conditions: readonly Condition[] | undefined): BudgetStatus | undefined {
  const c = conditions?.find((x) => x.type === BUDGET_CONDITION);
  if (!c) return undefined;
  if (c.reason === BudgetReasons.BudgetExceeded) return 'over';
  if (c.reason === BudgetReasons.BudgetWarning) return 'warning';
  if (c.reason === BudgetReasons.BudgetOk) return 'ok';
  return undefined;
}

export interface BudgetFigures {
  readonly status: BudgetStatus;
  readonly projectedMonthEndCost: number;
  readonly monthlyBudget: number;
  readonly monthToDateCost: number;
  readonly burnRatePerDay: number;
  readonly currency: string;
  /** When the figures were measured (RFC 3339). */
  readonly asOf: string;
}

export interface BudgetDecision {
  readonly status: BudgetStatus;
  /** The condition to set (setCondition keeps lastTransitionTime when unchanged). */
  readonly condition: ConditionInput;
  /** True when the status differs from the recorded one: write, emit one Event, count it. */
  readonly crossed: boolean;
  /**
   * True when the condition must be written: on a crossing, or when none is recorded yet. Figures
   * move every hour, so the condition is not rewritten between crossings (no steady-state writes);
   * its message carries the figures as of the last crossing.
   */
  readonly write: boolean;
  /** The Event to emit on a crossing. */
  readonly event?: { type: 'Normal' | 'Warning'; reason: string; note: string };
}

const money = (v: number, currency: string): string => `${v.toFixed(2)} ${currency}`;

/**
 * Decides the budget state. The first evaluation of a team (nothing recorded) counts as a
 * crossing only when the status is not `ok`: a team that starts within budget gets its
 * condition written but no Event.
 */
export function assessBudget(previous: BudgetStatus | undefined, f: BudgetFigures): BudgetDecision {
  const pct = f.monthlyBudget > 0 ? (100 * f.projectedMonthEndCost) / f.monthlyBudget : 0;
  const message =
    `projected month-end ${money(f.projectedMonthEndCost, f.currency)} is ${pct.toFixed(1)}% of the monthly budget ` +
    `${money(f.monthlyBudget, f.currency)} (month to date ${money(f.monthToDateCost, f.currency)}, ` +
    `burn rate ${money(f.burnRatePerDay, f.currency)}/day, as of ${f.asOf})`;
  const condition: ConditionInput = {
    type: BUDGET_CONDITION,
    status: f.status === 'ok' ? 'True' : 'False',
    reason: REASON_OF[f.status],
    message,
  };
  const crossed = previous === undefined ? f.status !== 'ok' : previous !== f.status;
  const write = crossed || previous === undefined;
  if (!crossed) return { status: f.status, condition, crossed, write };
  const from = previous ?? 'ok';
  return {
    status: f.status,
    condition,
    crossed,
    write,
    event: {
      type: f.status === 'ok' ? 'Normal' : 'Warning',
      reason: REASON_OF[f.status],
      note: `budget ${from} -> ${f.status}: ${message}`,
    },
  };
}
