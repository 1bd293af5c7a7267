/**
 * backfillStages: a recording rule reading another rule's series is backfilled after it (its input must
 * be in the TSDB first); independent rules share a stage, in their order.
 */
import { describe, expect, it } from 'vitest';
import { backfillStages } from '../../src/localcluster/prometheus.js';
import { renderRuleGroups, type RecordingRule } from '../../src/monitoring/rules.js';
import { RECORDED_SERIES, TEAM_RECORDED_SERIES } from '../../src/cost/queries.js';

const names = (stages: ReturnType<typeof backfillStages>): string[][] => stages.map((s) => s.map((r) => r.record));

describe('backfillStages', () => {
  it('puts a rule after the rules whose series it reads, and no later than needed', () => {
    const stages = backfillStages([
      { record: 'a:x:1h', expr: 'sum(x)' },
      { record: 'b:x:1h', expr: 'sum by (b) (a:x:1h)' },
      { record: 'a:y:1h', expr: 'sum(y)' },
      { record: 'c:x:1h', expr: 'b:x:1h + a:y:1h' },
      // A name only sharing a prefix or suffix with a record is not a dependency.
      { record: 'd:x:1h', expr: 'sum(xa:x:1h) + a:x:1hh' },
    ]);
    expect(names(stages)).toEqual([['a:x:1h', 'a:y:1h', 'd:x:1h'], ['b:x:1h'], ['c:x:1h']]);
  });

  it('the cost group: the per-service series first, then the per-team series read from them', () => {
    const rules = renderRuleGroups()
      .filter((g) => g.name === 'paved-cost-hourly')
      .flatMap((g) => g.rules)
      .filter((r): r is RecordingRule => 'record' in r);
    expect(names(backfillStages(rules))).toEqual([Object.values(RECORDED_SERIES), Object.values(TEAM_RECORDED_SERIES)]);
  });
});
