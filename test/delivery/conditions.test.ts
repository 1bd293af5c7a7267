import { describe, expect, it } from 'vitest';
import { rolloutConditions } from '../../src/delivery/conditions.js';
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
});
