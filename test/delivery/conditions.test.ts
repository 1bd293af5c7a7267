import { describe, expect, it } from 'vitest';
import { rolloutConditions, withRolloutConditions } from '../../src/delivery/conditions.js';
import type { RolloutState } from '../../src/delivery/types.js';

const base: RolloutState = { phase: 'Healthy', stableRevision: 'r1', stepIndex: 0, weight: 0, attempt: 0, history: [] };
const by = (state: RolloutState) => Object.fromEntries(rolloutConditions(state).map((c) => [c.type, [c.status, c.reason]]));

describe('rolloutConditions', () => {
  it('maps every phase to Progressing and Degraded', () => {
    expect(rolloutConditions(undefined)).toEqual([]);
    expect(by(base)).toEqual({ Progressing: ['False', 'RolloutCompleted'], Degraded: ['False', 'RolloutCompleted'] });
    expect(by({ ...base, phase: 'Progressing' })).toEqual({ Progressing: ['True', 'RolloutProgressing'], Degraded: ['False', 'RolloutProgressing'] });
    expect(by({ ...base, phase: 'Promoting' }).Progressing).toEqual(['True', 'RolloutProgressing']);
    expect(by({ ...base, phase: 'Paused', pauseReason: 'Inconclusive' })).toEqual({ Progressing: ['False', 'AnalysisInconclusive'], Degraded: ['False', 'AnalysisInconclusive'] });
    expect(by({ ...base, phase: 'Paused', pauseReason: 'AnalysisError' })).toEqual({ Progressing: ['False', 'PrometheusUnavailable'], Degraded: ['True', 'PrometheusUnavailable'] });
    expect(by({ ...base, phase: 'Paused', pauseReason: 'Manual' }).Progressing).toEqual(['False', 'RolloutPaused']);
    const failure = { reason: 'AnalysisFailed' as const, message: 'm', at: 'now' };
    expect(by({ ...base, phase: 'RolledBack', failure })).toEqual({ Progressing: ['False', 'RolledBack'], Degraded: ['True', 'AnalysisFailed'] });
    expect(by({ ...base, phase: 'RolledBack', failure: { ...failure, reason: 'Aborted' } }).Progressing).toEqual(['False', 'RolloutAborted']);
  });

  it('shows the step and weight while progressing, and the metric and value after a rollback', () => {
    const moving = rolloutConditions({ ...base, phase: 'Progressing', stepIndex: 1, stepCount: 5, weight: 10, message: 'analysing' });
    expect(moving.find((c) => c.type === 'Progressing')?.message).toBe('step 2/5 at 10%: analysing');
    const paused = rolloutConditions({ ...base, phase: 'Paused', pauseReason: 'PauseStep', stepIndex: 1, stepCount: 5, weight: 50, message: 'm' });
    expect(paused.find((c) => c.type === 'Progressing')?.message).toBe('paused at step 2/5 at 50%: m');
    const failure = { reason: 'AnalysisFailed' as const, message: 'metric error-rate failed at 50%: value 0.5 breaks "result <= 0.05"', at: 'now', metric: 'error-rate', value: 0.5 };
    const degraded = rolloutConditions({ ...base, phase: 'RolledBack', failure, message: failure.message }).find((c) => c.type === 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'AnalysisFailed' });
    expect(degraded?.message).toContain('(metric error-rate = 0.5)');
  });
  it('sets them next to the other conditions, keeping transition times when nothing changed', () => {
    const ready = { type: 'Ready', status: 'True' as const, reason: 'Reconciled', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00Z' };
    const first = withRolloutConditions([ready], { ...base, phase: 'Progressing', stepCount: 5 }, 3, '2026-01-01T00:01:00Z');
    expect(first.map((c) => c.type)).toEqual(['Ready', 'Progressing', 'Degraded']);
    expect(first[1]).toMatchObject({ status: 'True', observedGeneration: 3, lastTransitionTime: '2026-01-01T00:01:00Z' });
    const again = withRolloutConditions(first, { ...base, phase: 'Progressing', stepCount: 5, weight: 10 }, 3, '2026-01-01T00:02:00Z');
    expect(again[1]?.lastTransitionTime).toBe('2026-01-01T00:01:00Z');
    expect(withRolloutConditions([ready], undefined, 3, 'now')).toEqual([ready]);
  });
});
