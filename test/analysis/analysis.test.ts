import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { applyMeasurements, assess, describeCriterion, dueMetrics, judge, newMetricRun, summarizeRun, type AdvanceRule } from '../../src/analysis/assess.js';
import { evaluateCondition, parseCondition } from '../../src/analysis/condition.js';
import { formatPromDuration, parseDuration } from '../../src/analysis/duration.js';
import { renderQuery } from '../../src/analysis/render-query.js';
import { metricSpecSchema, MAX_MEASUREMENTS, type AnalysisRun, type Measurement, type MetricSpec, type ProviderResult } from '../../src/analysis/types.js';
import { InvalidSpecError } from '../../src/errors.js';

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const metric = (over: Partial<MetricSpec> = {}): MetricSpec =>
  metricSpecSchema.parse({ name: 'error-rate', query: 'q{track="{{track}}"}', max: 0.01, interval: '2s', ...over });
const value = (v: number): ProviderResult => ({ kind: 'value', value: v });
const noData: ProviderResult = { kind: 'noData' };
const err: ProviderResult = { kind: 'error', message: 'connect ECONNREFUSED' };

/** Feeds provider results one interval apart and returns the metric run. */
function feed(spec: MetricSpec, results: ProviderResult[], stable?: ProviderResult, rule?: AdvanceRule) {
  let run = newMetricRun({ template: 't', metric: spec }, 'q', T0);
  results.forEach((r, i) => {
    run = assess(run, spec, judge(spec, r, stable, at(2 * (i + 1)).toISOString()), at(2 * (i + 1)), rule);
  });
  return run;
}

describe('durations', () => {
  it('parses Go-style durations and formats PromQL ranges', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(formatPromDuration(90_000)).toBe('90s');
    expect(formatPromDuration(1500)).toBe('1500ms');
  });
  it('rejects anything else with the field named', () => {
    expect(() => parseDuration('30', 'spec.x')).toThrow(InvalidSpecError);
    expect(() => parseDuration('1m 30s')).toThrow(/not a duration/);
    expect(() => parseDuration('')).toThrow(InvalidSpecError);
  });
});

describe('renderQuery', () => {
  const vars = { namespace: 'shop', service: 'cart', track: 'canary' as const, revision: 'abc', interval: '30s' };
  it('replaces every placeholder, with or without spaces', () => {
    expect(renderQuery('rate(x{namespace="{{namespace}}",service="{{ service }}",track="{{track}}",rev="{{revision}}"}[{{interval}}])', vars)).toBe(
      'rate(x{namespace="shop",service="cart",track="canary",rev="abc"}[30s])',
    );
  });
  it('escapes label values so that they cannot change the query', () => {
    expect(renderQuery('x{service="{{service}}"}', { ...vars, service: 'a"} or vector(1) #\\' })).toBe('x{service="a\\"} or vector(1) #\\\\"}');
  });
  it('rejects unknown placeholders', () => {
    expect(() => renderQuery('x{a="{{team}}"}', vars)).toThrow(/unknown placeholder \{\{team\}\}/);
  });
  it('leaves PromQL braces alone', () => {
    expect(renderQuery('sum by (le) (x{a="b"})', vars)).toBe('sum by (le) (x{a="b"})');
  });
});

describe('success conditions', () => {
  it('evaluates comparisons joined by && and ||', () => {
    const c = parseCondition('result >= 0 && result <= 2 || result == 10');
    expect(evaluateCondition(c, 1)).toBe(true);
    expect(evaluateCondition(c, 3)).toBe(false);
    expect(evaluateCondition(c, 10)).toBe(true);
    expect(evaluateCondition(parseCondition('result < 1e-2'), 0.001)).toBe(true);
    expect(evaluateCondition(parseCondition('result != -1'), -1)).toBe(false);
  });
  it('rejects other expressions', () => {
    expect(() => parseCondition('result[0] < 1')).toThrow(InvalidSpecError);
    expect(() => parseCondition('process.exit()')).toThrow(InvalidSpecError);
  });
  it('agrees with JavaScript comparisons for any number', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), fc.double({ noNaN: true, noDefaultInfinity: true }), (result, threshold) => {
        const c = parseCondition(`result < ${threshold.toExponential()}`);
        expect(evaluateCondition(c, result)).toBe(result < Number(threshold.toExponential()));
      }),
    );
  });
});

describe('metric spec', () => {
  it('applies the CRD defaults', () => {
    const m = metricSpecSchema.parse({ name: 'x', query: 'q', max: 1 });
    expect(m).toMatchObject({ interval: '1m', count: 3, failureLimit: 0, inconclusiveLimit: 0, consecutiveErrorLimit: 4 });
  });
  it('needs exactly one criterion', () => {
    expect(metricSpecSchema.safeParse({ name: 'x', query: 'q' }).success).toBe(false);
    expect(metricSpecSchema.safeParse({ name: 'x', query: 'q', max: 1, successCondition: 'result < 1' }).success).toBe(false);
    expect(metricSpecSchema.safeParse({ name: 'x', query: 'q', comparison: { maxRatio: 1.5 } }).success).toBe(true);
  });
  it('describes the criterion for status messages', () => {
    expect(describeCriterion(metric())).toBe('result <= 0.01');
    expect(describeCriterion(metric({ max: undefined, min: 5 }))).toBe('result >= 5');
    expect(describeCriterion(metric({ max: undefined, comparison: { maxRatio: 1.5, tolerance: 0.01 } }))).toBe('canary <= stable * 1.5 + 0.01');
    expect(describeCriterion(metric({ max: undefined, successCondition: ' result < 3 ' }))).toBe('result < 3');
  });
});

describe('judge', () => {
  const iso = T0.toISOString();
  it('passes and fails against thresholds', () => {
    expect(judge(metric(), value(0.001), undefined, iso)).toMatchObject({ phase: 'Successful', value: 0.001 });
    expect(judge(metric(), value(0.5), undefined, iso)).toMatchObject({ phase: 'Failed', value: 0.5, message: 'value 0.5 breaks result <= 0.01' });
    expect(judge(metric({ max: undefined, min: 1 }), value(0.5), undefined, iso).phase).toBe('Failed');
    expect(judge(metric({ max: undefined, successCondition: 'result > 3' }), value(4), undefined, iso).phase).toBe('Successful');
  });
  it('treats no data as inconclusive, never as success or failure', () => {
    for (const spec of [metric(), metric({ max: undefined, min: 0 }), metric({ max: undefined, comparison: { maxRatio: 2, tolerance: 0 } })]) {
      expect(judge(spec, noData, value(1), iso).phase).toBe('Inconclusive');
    }
  });
  it('treats provider errors as errors', () => {
    expect(judge(metric(), err, undefined, iso)).toMatchObject({ phase: 'Error', message: 'canary query failed: connect ECONNREFUSED' });
    const down: ProviderResult = { kind: 'error', message: 'network_error: connect ECONNREFUSED', unavailable: true };
    expect(judge(metric(), down, undefined, iso)).toMatchObject({ phase: 'Error', message: 'Prometheus unavailable: network_error: connect ECONNREFUSED' });
  });
  it('retries after a query error sooner, with backoff up to the interval', () => {
    const spec = metric({ interval: '1m', count: 3, consecutiveErrorLimit: 10 });
    const down: ProviderResult = { kind: 'error', message: 'timeout', unavailable: true };
    const gaps = [1, 2, 3, 4, 7, 8].map((n) => Date.parse(feed(spec, Array.from({ length: n }, () => down)).nextMeasurementAt!) - at(2 * n).getTime());
    expect(gaps).toEqual([1000, 2000, 4000, 8000, 60_000, 60_000]);
    expect(Date.parse(feed(spec, [down, value(0)]).nextMeasurementAt!) - at(4).getTime()).toBe(60_000);
  });
  it('compares canary with stable', () => {
    const cmp = metric({ max: undefined, comparison: { maxRatio: 1.5, tolerance: 0 } });
    expect(judge(cmp, value(0.3), value(0.25), iso)).toMatchObject({ phase: 'Successful', value: 0.3, stableValue: 0.25 });
    expect(judge(cmp, value(0.3), value(0.1), iso)).toMatchObject({ phase: 'Failed', value: 0.3, stableValue: 0.1 });
    expect(judge(cmp, value(0.3), noData, iso).phase).toBe('Inconclusive');
    expect(judge(cmp, value(0.3), err, iso).phase).toBe('Error');
    expect(judge(cmp, value(0.3), undefined, iso).phase).toBe('Error');
  });
  it('catches a regression that the absolute threshold misses', () => {
    // An always-slow service: stable p99 0.8 s, canary 2 s. The absolute gate (5 s) passes; the ratio fails.
    const absolute = metric({ max: 5 });
    const ratio = metric({ max: undefined, comparison: { maxRatio: 1.5, tolerance: 0.01 } });
    expect(judge(absolute, value(2), undefined, iso).phase).toBe('Successful');
    expect(judge(ratio, value(2), value(0.8), iso).phase).toBe('Failed');
  });
  it('fails an infinite value and keeps status JSON-safe', () => {
    const m = judge(metric(), value(Infinity), undefined, iso);
    expect(m.phase).toBe('Failed');
    expect(m.value).toBeUndefined();
    expect(m.message).toContain('Infinity');
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
  });
});

describe('assess (Argo/Flagger semantics)', () => {
  it('succeeds after count successful measurements', () => {
    const run = feed(metric({ count: 3 }), [value(0), value(0), value(0)]);
    expect(run).toMatchObject({ phase: 'Successful', successful: 3 });
    expect(run.nextMeasurementAt).toBeUndefined();
  });
  it('stays running and schedules the next measurement one interval later', () => {
    const run = feed(metric({ count: 3 }), [value(0)]);
    expect(run.phase).toBe('Running');
    expect(run.nextMeasurementAt).toBe(at(4).toISOString());
  });
  it('fails on failureLimit + 1 failures', () => {
    const spec = metric({ count: 10, failureLimit: 2 });
    expect(feed(spec, [value(1), value(1)]).phase).toBe('Running');
    expect(feed(spec, [value(1), value(1), value(1)])).toMatchObject({ phase: 'Failed', failed: 3 });
  });
  it('tolerates failures within failureLimit', () => {
    expect(feed(metric({ count: 3, failureLimit: 1 }), [value(1), value(0), value(0)]).phase).toBe('Successful');
  });
  it('never passes on a failed latest measurement: it takes one more, within the limits (RequireLatestSuccess, the default)', () => {
    const spec = metric({ count: 2, failureLimit: 2, inconclusiveLimit: 2 });
    const flapping = feed(spec, [value(0), value(1)]);
    expect(flapping).toMatchObject({ phase: 'Running', successful: 1, failed: 1 });
    expect(flapping.message).toMatch(/latest measurement is Failed: one more/);
    expect(flapping.nextMeasurementAt).toBeDefined();
    expect(feed(spec, [value(0), value(1), value(0)])).toMatchObject({ phase: 'Successful', successful: 2, failed: 1 });
    // bad, good, bad, ... runs out of failureLimit instead of passing on a bad reading
    expect(feed(spec, [value(0), value(1), value(1), value(1)])).toMatchObject({ phase: 'Failed', failed: 3 });
    // a latest "no data" is not a success either; inconclusiveLimit bounds it
    expect(feed(spec, [value(0), noData]).phase).toBe('Running');
    expect(feed(spec, [value(0), noData, noData, noData]).phase).toBe('Inconclusive');
    // a provider error does not use up count, and the next real measurement decides
    expect(feed(spec, [value(0), value(1), err, value(0)]).phase).toBe('Successful');
  });
  it('passes with failures within failureLimit whatever the latest reading under WithinLimits (Argo Rollouts\' rule)', () => {
    const spec = metric({ count: 2, failureLimit: 2 });
    expect(feed(spec, [value(0), value(1)], undefined, 'WithinLimits').phase).toBe('Successful');
  });
  it('becomes inconclusive past inconclusiveLimit', () => {
    expect(feed(metric({ count: 5, inconclusiveLimit: 1 }), [noData]).phase).toBe('Running');
    expect(feed(metric({ count: 5, inconclusiveLimit: 1 }), [noData, noData]).phase).toBe('Inconclusive');
  });
  it('never succeeds on no data alone', () => {
    const run = feed(metric({ count: 2, inconclusiveLimit: 5 }), [noData, noData]);
    expect(run).toMatchObject({ phase: 'Inconclusive', message: 'no measurement succeeded' });
  });
  it('ends in Error past consecutiveErrorLimit; errors do not use up count', () => {
    const spec = metric({ count: 2, consecutiveErrorLimit: 2 });
    expect(feed(spec, [err, err]).phase).toBe('Running');
    expect(feed(spec, [err, err, err])).toMatchObject({ phase: 'Error', error: 3, consecutiveErrors: 3 });
    expect(feed(spec, [err, err, value(0), err, err, value(0)])).toMatchObject({ phase: 'Successful', error: 4, consecutiveErrors: 0 });
  });
  it('keeps at most MAX_MEASUREMENTS measurements', () => {
    const run = feed(metric({ count: 100, consecutiveErrorLimit: 100 }), Array.from({ length: 25 }, () => err));
    expect(run.measurements).toHaveLength(MAX_MEASUREMENTS);
    expect(run.error).toBe(25);
  });
  it('ignores measurements once decided', () => {
    const spec = metric({ count: 1 });
    const done = feed(spec, [value(0)]);
    const again = assess(done, spec, judge(spec, value(9), undefined, at(9).toISOString()), at(9));
    expect(again).toBe(done);
  });
  it('any sequence: a decided phase matches its counts', () => {
    const result = fc.oneof(
      fc.constant<ProviderResult>(noData),
      fc.constant<ProviderResult>(err),
      fc.double({ min: 0, max: 0.02, noNaN: true }).map(value),
    );
    fc.assert(
      fc.property(
        fc.array(result, { maxLength: 30 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        (results, count, failureLimit, inconclusiveLimit, consecutiveErrorLimit) => {
          const spec = metric({ count, failureLimit, inconclusiveLimit, consecutiveErrorLimit });
          const run = feed(spec, results);
          if (run.phase === 'Successful') {
            expect(run.successful).toBeGreaterThan(0);
            expect(run.measurements.at(-1)?.phase, 'never passes on a failed latest measurement').toBe('Successful');
            expect(run.failed).toBeLessThanOrEqual(failureLimit);
            expect(run.inconclusive).toBeLessThanOrEqual(inconclusiveLimit);
          }
          if (run.phase === 'Failed') expect(run.failed).toBe(failureLimit + 1);
          if (run.phase === 'Error') expect(run.consecutiveErrors).toBe(consecutiveErrorLimit + 1);
          if (results.every((r) => r.kind !== 'value')) expect(['Running', 'Inconclusive', 'Error']).toContain(run.phase);
          expect(run.measurements.length).toBeLessThanOrEqual(MAX_MEASUREMENTS);
        },
      ),
    );
  });
});

describe('runs', () => {
  const a = metric({ name: 'a', count: 1 });
  const b = metric({ name: 'b', count: 2 });
  const resolved = [
    { template: 't', metric: a },
    { template: 't', metric: b },
  ];
  const run0: AnalysisRun = {
    id: 'r-1-0',
    revision: 'r',
    stepIndex: 1,
    phase: 'Running',
    startedAt: T0.toISOString(),
    metrics: resolved.map((r) => newMetricRun(r, 'q', T0)),
  };
  const m = (phase: Measurement['phase'], s: number): Measurement => ({ phase, at: at(s).toISOString() });

  it('lists due metrics', () => {
    expect(dueMetrics(run0, at(1))).toEqual([]);
    expect(dueMetrics(run0, at(2))).toEqual(['a', 'b']);
  });
  it('fails as soon as one metric fails, naming it', () => {
    const run = applyMeasurements(run0, resolved, new Map([['a', m('Failed', 2)], ['b', m('Successful', 2)]]), at(2));
    expect(run.phase).toBe('Failed');
    expect(run.message).toMatch(/^metric a failed/);
    expect(run.finishedAt).toBe(at(2).toISOString());
  });
  it('runs until every metric succeeded', () => {
    let run = applyMeasurements(run0, resolved, new Map([['a', m('Successful', 2)], ['b', m('Successful', 2)]]), at(2));
    expect(run.phase).toBe('Running');
    run = applyMeasurements(run, resolved, new Map([['b', m('Successful', 4)]]), at(4));
    expect(run.phase).toBe('Successful');
  });
  it('ranks Error above Inconclusive', () => {
    const x = { ...run0, metrics: run0.metrics.map((mr, i) => ({ ...mr, phase: i === 0 ? ('Inconclusive' as const) : ('Error' as const) })) };
    expect(summarizeRun(x, at(3)).phase).toBe('Error');
  });
});
