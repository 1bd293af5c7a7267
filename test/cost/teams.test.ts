import { describe, expect, it } from 'vitest';
import { teamInfoFromObject } from '../../src/cost/teams.js';
import { costRangeQuery, promString, rolloutsQuery } from '../../src/cost/queries.js';

describe('teamInfoFromObject', () => {
  it('reads the CRD\'s spec.monthlyBudget.amount through the generated Team type', () => {
    const t = teamInfoFromObject({ metadata: { name: 'a' }, spec: { monthlyBudget: { amount: 1500, currency: 'USD' } } } as never);
    expect(t).toEqual({ name: 'a', monthlyBudget: 1500 });
    expect(teamInfoFromObject({ metadata: { name: 'b' }, spec: {} } as never)).toEqual({ name: 'b' });
  });

  // Fixed (issue 18): the Team schema has no `spec.budget` and no per-team thresholds (the API server prunes
  // them), so the old fallbacks read fields no real Team carries.
  it('invents no budget from fields the Team schema does not define', () => {
    expect(teamInfoFromObject({ metadata: { name: 'c' }, spec: { budget: '20.5' } } as never)).toEqual({ name: 'c' });
    expect(teamInfoFromObject({ metadata: { name: 'd' }, spec: { monthlyBudget: { amount: 10, warningPercent: 70 } } } as never)).toEqual({
      name: 'd',
      monthlyBudget: 10,
    });
  });
});

describe('queries', () => {
  it('one query aggregates all teams by label; a team filter is a label matcher, not a loop', () => {
    const all = costRangeQuery('cpuAllocated', { groupBy: ['team'] }, 86_400);
    expect(all).toMatch(/^sum_over_time\(\(sum by \(team\) /);
    expect(all).toContain('[86399s:1h])');
    const one = costRangeQuery('memoryUsed', { groupBy: ['team', 'service'], team: 'pay"ments' }, 3600);
    expect(one).toContain('label_paved_dev_team="pay\\"ments"');
    expect(one).toContain('group_left (service)');
    expect(costRangeQuery('storage', { groupBy: ['team', 'service'] }, 3600)).not.toContain('group_left (service)');
  });
  it('escapes PromQL strings', () => {
    expect(promString('a\\b"c')).toBe('"a\\\\b\\"c"');
  });
  it('rollouts come from the delivery counter over the window', () => {
    expect(rolloutsQuery({ groupBy: ['team'], team: 'x' }, 2_592_000)).toContain('increase(paved_rollouts_started_total[2592000s])');
  });
});
