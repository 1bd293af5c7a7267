import { describe, expect, it } from 'vitest';
import { setCondition } from '../../src/kube/conditions.js';
import { assessBudget, BUDGET_CONDITION, recordedBudgetStatus, type BudgetFigures } from '../../src/cost/budget.js';
import type { BudgetStatus } from '../../src/cost/model.js';

const figures = (status: BudgetStatus): BudgetFigures => ({
  status,
  projectedMonthEndCost: 90,
  monthlyBudget: 100,
  monthToDateCost: 60,
  burnRatePerDay: 3,
  currency: 'USD',
  asOf: '2026-11-20T00:00:00Z',
});

describe('assessBudget', () => {
  it('a first evaluation within budget writes the condition without an Event', () => {
    const d = assessBudget(undefined, figures('ok'));
    expect(d).toMatchObject({ crossed: false, write: true, status: 'ok' });
    expect(d.event).toBeUndefined();
    expect(d.condition).toMatchObject({ type: BUDGET_CONDITION, status: 'True', reason: 'BudgetOk' });
  });

  it('a crossing emits one Warning Event; the same status again emits nothing and writes nothing', () => {
    const up = assessBudget('ok', figures('warning'));
    expect(up).toMatchObject({ crossed: true, write: true, event: { type: 'Warning', reason: 'BudgetWarning' } });
    expect(up.condition.status).toBe('False');
    const again = assessBudget('warning', figures('warning'));
    expect(again).toMatchObject({ crossed: false, write: false });
    expect(again.event).toBeUndefined();
  });

  it('going back under the threshold is a (Normal) crossing too', () => {
    expect(assessBudget('over', figures('ok'))).toMatchObject({ crossed: true, event: { type: 'Normal', reason: 'BudgetOk' } });
  });

  it('a first evaluation already over budget is a crossing', () => {
    expect(assessBudget(undefined, figures('over'))).toMatchObject({ crossed: true, event: { reason: 'BudgetExceeded' } });
  });

  it('the recorded status round-trips through the condition', () => {
    for (const s of ['ok', 'warning', 'over'] as const) {
      const conditions = setCondition([], assessBudget(undefined, figures(s)).condition, new Date());
      expect(recordedBudgetStatus(conditions)).toBe(s);
    }
    expect(recordedBudgetStatus(undefined)).toBeUndefined();
  });

  it('a sequence of evaluations emits exactly one Event per change of status', () => {
    const seq: BudgetStatus[] = ['ok', 'ok', 'warning', 'warning', 'warning', 'over', 'over', 'warning', 'ok', 'ok'];
    let recorded: BudgetStatus | undefined;
    let events = 0;
    for (const s of seq) {
      const d = assessBudget(recorded, figures(s));
      if (d.event) events++;
      if (d.write) recorded = d.status;
    }
    expect(events).toBe(4);
  });
});
