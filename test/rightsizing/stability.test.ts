/** The stability rule, the lifecycle planner and the apply window, with a property test over random daily series. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planLifecycle, type PlanInput } from '../../src/rightsizing/plan.js';
import { recommendContainer } from '../../src/rightsizing/recommend.js';
import { assessStability, previousDay, stableDaysOf } from '../../src/rightsizing/stability.js';
import { DEFAULT_FLOORS, DEFAULT_SETTINGS, type DailyValue } from '../../src/rightsizing/types.js';
import { isInApplyWindow } from '../../src/rightsizing/window.js';

const MIB = 2 ** 20;
const s = DEFAULT_SETTINGS;
const dayN = (i: number): string => new Date(Date.UTC(2026, 9, 1) + i * 86_400_000).toISOString().slice(0, 10);
const flat = (n: number, cpu: number, memory: number): DailyValue[] => Array.from({ length: n }, (_, i) => ({ day: dayN(i), cpu, memory }));

describe('stability rule', () => {
  it('counts consecutive days within tolerance, ending at the newest', () => {
    const daily = [...flat(10, 0.5, 100), ...flat(14, 0.2, 100).map((d, i) => ({ ...d, day: dayN(10 + i) }))];
    expect(stableDaysOf(daily, 0.2, (d) => d.cpu, 0.1)).toBe(14);
    expect(stableDaysOf(daily, 0.5, (d) => d.cpu, 0.1)).toBe(0);
  });

  it('a missing day breaks the run', () => {
    const daily = flat(20, 0.2, 100).filter((d) => d.day !== dayN(15));
    expect(stableDaysOf(daily, 0.2, (d) => d.cpu, 0.1)).toBe(4);
  });

  it('10 stable days are not enough, 14 are; a change under the threshold is not applied', () => {
    const ten = [...flat(10, 1, MIB * 500), ...flat(10, 0.2, MIB * 100).map((d, i) => ({ ...d, day: dayN(10 + i) }))];
    expect(assessStability(s.stability, { cpu: 0.2, memory: 100 * MIB }, { cpu: 1, memory: 500 * MIB }, ten)).toMatchObject({ stableDays: 10, stable: false, differs: true });
    const fourteen = flat(14, 0.2, MIB * 100);
    expect(assessStability(s.stability, { cpu: 0.2, memory: 100 * MIB }, { cpu: 1, memory: 500 * MIB }, fourteen)).toMatchObject({ stableDays: 14, stable: true, differs: true });
    expect(assessStability(s.stability, { cpu: 0.2, memory: 100 * MIB }, { cpu: 0.21, memory: 105 * MIB }, fourteen).differs).toBe(false);
  });

  it('previousDay crosses months', () => {
    expect(previousDay('2026-03-01')).toBe('2026-02-28');
  });
});

describe('apply window', () => {
  const w = s.window;
  it('weekdays 09:00-16:00 only', () => {
    expect(isInApplyWindow(w, new Date('2026-12-01T10:00:00Z'))).toBe(true); // Tuesday
    expect(isInApplyWindow(w, new Date('2026-12-01T16:00:00Z'))).toBe(false);
    expect(isInApplyWindow(w, new Date('2026-12-01T03:00:00Z'))).toBe(false);
    expect(isInApplyWindow(w, new Date('2026-12-05T10:00:00Z'))).toBe(false); // Saturday
  });
  it('in the configured timezone', () => {
    // 08:30 UTC is 09:30 in Berlin (CET, UTC+1)
    expect(isInApplyWindow({ ...w, timezone: 'Europe/Berlin' }, new Date('2026-12-01T08:30:00Z'))).toBe(true);
    expect(isInApplyWindow(w, new Date('2026-12-01T08:30:00Z'))).toBe(false);
  });
  it('an unknown timezone names the field', () => {
    expect(() => isInApplyWindow({ ...w, timezone: 'Mars/Olympus' }, new Date())).toThrow(/applyWindow\.timezone/);
  });
});

const base = (over: Partial<PlanInput> = {}): PlanInput => ({
  mode: 'auto',
  now: new Date('2026-12-01T10:00:00Z'),
  settings: s,
  recorded: {},
  verdict: { kind: 'recommended', recommended: [{ name: 'app', cpu: '200m', memory: '100Mi' }], stableDays: 14, stable: true, differs: true },
  cluster: { rolloutInProgress: false, rolledBack: false, liveMatchesApplied: false, windowOpen: true },
  ...over,
});

describe('lifecycle planner', () => {
  it('applies a stable, different recommendation inside the window, remembering what was before', () => {
    const p = planLifecycle(base({ recorded: { state: 'Recommended', applied: [{ name: 'app', cpu: '1' }] } }));
    expect(p).toMatchObject({ state: 'Applying', appliedNow: true, applied: [{ name: 'app', cpu: '200m', memory: '100Mi' }], previous: [{ name: 'app', cpu: '1' }] });
  });
  it('waits outside the window and while a rollout runs', () => {
    expect(planLifecycle(base({ cluster: { ...base().cluster, windowOpen: false } }))).toMatchObject({ state: 'Stable', reason: 'OutsideApplyWindow', appliedNow: false });
    expect(planLifecycle(base({ cluster: { ...base().cluster, rolloutInProgress: true } }))).toMatchObject({ state: 'Stable', reason: 'RolloutInProgress' });
  });
  it('recommend mode never applies; insufficient data is Collecting', () => {
    expect(planLifecycle(base({ mode: 'recommend' }))).toMatchObject({ state: 'Recommended', appliedNow: false });
    expect(planLifecycle(base({ verdict: { kind: 'insufficient', daysOfData: 3, daysNeeded: 14 } }))).toMatchObject({ state: 'Collecting', message: expect.stringContaining('3 of 14 days') });
  });
  it('a failed analysis restores the previous requests and holds back', () => {
    const p = planLifecycle(base({ recorded: { state: 'Applying', applied: [{ name: 'app', cpu: '200m' }], previous: [{ name: 'app', cpu: '1' }] }, cluster: { ...base().cluster, rolledBack: true } }));
    expect(p).toMatchObject({ state: 'RolledBack', applied: [{ name: 'app', cpu: '1' }], rolledBackNow: 'AnalysisFailed', holdUntil: '2026-12-08T10:00:00Z' });
    const held = planLifecycle(base({ recorded: { ...p, state: 'RolledBack' }, now: new Date('2026-12-02T10:00:00Z') }));
    expect(held).toMatchObject({ state: 'HeldBack', appliedNow: false });
  });
  it('promotion starts the watch; a regression rolls back to the spec, a quiet watch ends Applied', () => {
    const watching = planLifecycle(base({ recorded: { state: 'Applying', applied: [{ name: 'app', cpu: '200m' }] }, cluster: { ...base().cluster, liveMatchesApplied: true } }));
    expect(watching).toMatchObject({ state: 'Watching', watchUntil: '2026-12-02T10:00:00Z' });
    const bad = planLifecycle(base({ recorded: watching, watch: { regressed: true, reason: 'LatencyRegression', message: 'p99 worse' } }));
    expect(bad).toMatchObject({ state: 'RolledBack', applied: undefined, rolledBackNow: 'LatencyRegression' });
    const done = planLifecycle(base({ recorded: watching, now: new Date('2026-12-02T11:00:00Z'), watch: { regressed: false } }));
    expect(done).toMatchObject({ state: 'Applied', reason: 'WatchPassed' });
  });
  it('leaving auto for recommend drops what was applied (the render ignores it; a later auto starts over) and keeps a hold', () => {
    const applied = [{ name: 'app', cpu: '200m', memory: '100Mi' }];
    for (const state of ['Applying', 'Watching', 'Applied'] as const) {
      const p = planLifecycle(base({ mode: 'recommend', recorded: { state, applied, previous: [{ name: 'app', cpu: '1' }], appliedSince: '2026-11-30T10:00:00Z', watchUntil: '2026-12-02T10:00:00Z' } }));
      expect(p).toMatchObject({ state: 'Recommended', reason: 'RecommendOnly', appliedNow: false });
      expect(p.applied).toBeUndefined();
      expect(p.previous).toBeUndefined();
      expect(p.watchUntil).toBeUndefined();
      expect(p.events).toEqual([expect.objectContaining({ reason: 'RightsizingNotApplied' })]);
      expect(p.message).toContain('no longer rendered');
    }
    const held = planLifecycle(base({ mode: 'recommend', recorded: { state: 'HeldBack', applied, holdUntil: '2026-12-08T10:00:00Z', lastRollback: { time: '2026-12-01T09:00:00Z', reason: 'LatencyRegression', message: 'p99' } } }));
    expect(held).toMatchObject({ state: 'HeldBack', holdUntil: '2026-12-08T10:00:00Z' });
    expect(held.applied).toBeUndefined();
    // Back in auto: applied again only through the rule (stable, different, window), from the spec's requests.
    const again = planLifecycle(base({ recorded: planLifecycle(base({ mode: 'recommend', recorded: { state: 'Applied', applied } })) }));
    expect(again).toMatchObject({ state: 'Applying', appliedNow: true, applied });
    expect(again.previous).toBeUndefined();
  });
  it('is idempotent: the same inputs give the same plan', () => {
    const input = base({ recorded: { state: 'Recommended' } });
    expect(planLifecycle(input)).toEqual(planLifecycle(input));
  });
});

describe('property: random daily series', () => {
  const runtime = fc.constantFrom('go', 'node', 'python', 'java', 'generic');
  // Near-constant series with jitter and gaps: some stable for 14 days, many not.
  const series = fc
    .record({
      cpu: fc.double({ min: 0.001, max: 4, noNaN: true }),
      memory: fc.double({ min: MIB, max: 4 * 1024 * MIB, noNaN: true }),
      calm: fc.boolean(),
      days: fc.array(fc.record({ jitter: fc.double({ min: -0.15, max: 0.15, noNaN: true }), gap: fc.integer({ min: 0, max: 99 }) }), { minLength: 14, maxLength: 30 }),
    })
    .map(({ cpu, memory, calm, days }) => days.map((d) => ({ cpu: cpu * (1 + (calm ? d.jitter / 4 : d.jitter)), memory: memory * (1 + (calm ? d.jitter / 4 : d.jitter)), gap: d.gap < 3 })));
  let applied = 0;
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  it('never applies unless the last 14 consecutive days are stable, never below the floors', () => {
    fc.assert(
      fc.property(series, runtime, fc.double({ min: 0.01, max: 4, noNaN: true }), (points, rt, currentCpu) => {
        const daily = points.flatMap((p, i) => (p.gap && i < points.length - 1 ? [] : [{ day: dayN(i), cpu: p.cpu, memory: p.memory }]));
        const usage = { namespace: 'n', webService: 'w', container: 'app', cpuQuantile: mean(daily.map((d) => d.cpu)), memoryMax: mean(daily.map((d) => d.memory)), daily };
        const r = recommendContainer(s.recommend, { usage, runtime: rt, bounds: {}, cpuHpa: false });
        if (r.kind !== 'recommended') return daily.length < 14;
        const floors = DEFAULT_FLOORS[rt]!;
        if ((r.cpu ?? 0) < floors.cpu - 1e-9 || r.memory < floors.memory) return false;
        const v = assessStability(s.stability, { cpu: r.cpu!, memory: r.memory }, { cpu: currentCpu, memory: 1024 * MIB }, r.daily);
        const p = planLifecycle(base({ verdict: { kind: 'recommended', recommended: [{ name: 'app' }], ...v } }));
        if (!p.appliedNow) return true;
        applied += 1;
        const last = r.daily.slice(-14);
        const consecutive = last.length === 14 && last.every((d, i) => i === 0 || previousDay(d.day) === last[i - 1]!.day);
        const within = last.every((d) => Math.abs(d.cpu! - r.cpu!) / r.cpu! <= 0.1 + 1e-9 && Math.abs(d.memory! - r.memory) / r.memory <= 0.1 + 1e-9);
        return consecutive && within;
      }),
      { numRuns: 500 },
    );
    expect(applied).toBeGreaterThan(0); // the property was exercised on applies, not only on refusals
  });
});
