import { describe, expect, it } from 'vitest';
import {
  conditionTransitions,
  getCondition,
  isConditionTrue,
  readyCondition,
  setCondition,
  degradedCondition,
  progressingCondition,
} from '../../src/kube/conditions.js';
import { Reasons } from '../../src/kube/reasons.js';

const t0 = '2025-01-01T00:00:00Z';
const t1 = new Date('2025-01-01T01:00:00.123Z');

describe('setCondition', () => {
  it('adds a condition with the transition time (seconds precision)', () => {
    const c = setCondition(undefined, readyCondition(true, Reasons.Reconciled, 'ok', 3), t1);
    expect(c).toEqual([
      { type: 'Ready', status: 'True', observedGeneration: 3, lastTransitionTime: '2025-01-01T01:00:00Z', reason: 'Reconciled', message: 'ok' },
    ]);
  });

  it('keeps lastTransitionTime when the status is unchanged, updating reason/message/generation', () => {
    const before = setCondition(undefined, readyCondition(true, Reasons.Reconciled, 'ok', 1), t0);
    const after = setCondition(before, readyCondition(true, Reasons.Available, 'still ok', 2), t1);
    expect(after[0]).toMatchObject({ lastTransitionTime: t0, reason: 'Available', message: 'still ok', observedGeneration: 2 });
  });

  it('moves lastTransitionTime when the status changes', () => {
    const before = setCondition(undefined, readyCondition(true, Reasons.Reconciled, 'ok'), t0);
    const after = setCondition(before, readyCondition(false, Reasons.ReconcileFailed, 'boom'), t1);
    expect(after[0]?.lastTransitionTime).toBe('2025-01-01T01:00:00Z');
    expect(after[0]?.status).toBe('False');
  });

  it('is pure and keeps order', () => {
    const before = setCondition(
      setCondition(undefined, readyCondition(true, 'A', ''), t0),
      progressingCondition(false, 'B', ''),
      t0,
    );
    const frozen = JSON.stringify(before);
    const after = setCondition(before, degradedCondition(false, 'C', ''), t1);
    const again = setCondition(after, readyCondition('Unknown', 'D', ''), t1);
    expect(JSON.stringify(before)).toBe(frozen);
    expect(again.map((c) => c.type)).toEqual(['Ready', 'Progressing', 'Degraded']);
    expect(getCondition(again, 'Ready')?.status).toBe('Unknown');
    expect(isConditionTrue(again, 'Ready')).toBe(false);
    expect(isConditionTrue(before, 'Ready')).toBe(true);
  });

  it('reports transitions on status or reason changes only', () => {
    const a = setCondition(undefined, readyCondition(true, 'Reconciled', 'x'), t0);
    expect(conditionTransitions(a, setCondition(a, readyCondition(true, 'Reconciled', 'new message'), t1))).toEqual([]);
    expect(conditionTransitions(a, setCondition(a, readyCondition(true, 'Other', 'x'), t1))).toHaveLength(1);
    const failed = setCondition(a, readyCondition(false, 'Failed', 'x'), t1);
    const [t] = conditionTransitions(a, failed);
    expect(t).toMatchObject({ type: 'Ready', from: { status: 'True' }, to: { status: 'False' } });
    expect(conditionTransitions(undefined, a)).toHaveLength(1);
  });

  it('reason constants are PascalCase', () => {
    for (const [k, v] of Object.entries(Reasons)) {
      expect(v).toBe(k);
      expect(v).toMatch(/^[A-Z][A-Za-z0-9]*$/);
    }
  });
});
