/** The pure recommender: the percentile and maximum rules, OOM kills, floors, bounds, HPAs, too little data. */
import { describe, expect, it } from 'vitest';
import { recommendContainer } from '../../src/rightsizing/recommend.js';
import { DEFAULT_SETTINGS, type ContainerUsage } from '../../src/rightsizing/types.js';

const MIB = 2 ** 20;
const policy = DEFAULT_SETTINGS.recommend;
const days = (n: number, cpu = 0.2, memory = 200 * MIB) =>
  Array.from({ length: n }, (_, i) => ({ day: `2026-11-${String(i + 1).padStart(2, '0')}`, cpu, memory }));
const usage = (over: Partial<ContainerUsage> = {}): ContainerUsage => ({
  namespace: 'ns',
  webService: 'api',
  container: 'app',
  cpuQuantile: 0.2,
  memoryMax: 200 * MIB,
  daily: days(14),
  ...over,
});

describe('recommendContainer', () => {
  it('CPU is the p95 x 1.15 and memory the max working set x 1.15, rounded up to whole millicores and MiB', () => {
    const r = recommendContainer(policy, { usage: usage(), runtime: 'go', bounds: {}, cpuHpa: false });
    expect(r).toMatchObject({ kind: 'recommended', cpu: 0.23, memory: 230 * MIB });
  });

  it('says how much data there is and how much is needed when the window is not full', () => {
    const r = recommendContainer(policy, { usage: usage({ daily: days(5) }), runtime: 'go', bounds: {}, cpuHpa: false });
    expect(r).toEqual({ kind: 'insufficient', daysOfData: 5, daysNeeded: 14 });
  });

  it('14 days of memory but no CPU usage rate (a scrape interval too long for the rate window) is no data for CPU, not a full window', () => {
    const noRate = usage({ cpuQuantile: undefined, daily: days(14).map(({ day, memory }) => ({ day, memory })) });
    const r = recommendContainer(policy, { usage: noRate, runtime: 'go', bounds: {}, cpuHpa: false });
    expect(r).toEqual({ kind: 'insufficient', daysOfData: 0, daysNeeded: 14, resource: 'cpu' });
    // With an HPA on CPU only memory is recommended, so the same history is enough.
    expect(recommendContainer(policy, { usage: noRate, runtime: 'go', bounds: {}, cpuHpa: true })).toMatchObject({ kind: 'recommended', memory: 230 * MIB });
  });

  it('counts the days each resource has: 14 days of memory and 9 of CPU are 9 days', () => {
    const daily = days(14).map((d, i) => (i < 5 ? { day: d.day, memory: d.memory } : d));
    const r = recommendContainer(policy, { usage: usage({ daily }), runtime: 'go', bounds: {}, cpuHpa: false });
    expect(r).toEqual({ kind: 'insufficient', daysOfData: 9, daysNeeded: 14, resource: 'cpu' });
  });

  it('raises memory to 1.25 x the limit of the last OOM kill', () => {
    const r = recommendContainer(policy, { usage: usage({ oomLimit: 256 * MIB }), runtime: 'go', bounds: {}, cpuHpa: false });
    expect(r).toMatchObject({ kind: 'recommended', memory: 320 * MIB });
    expect(r.kind === 'recommended' && r.notes.join()).toContain('OOM-killed at a 256Mi limit');
  });

  it('gives a JVM a higher CPU floor than Go', () => {
    const tiny = usage({ cpuQuantile: 0.001 });
    const java = recommendContainer(policy, { usage: tiny, runtime: 'java', bounds: {}, cpuHpa: false });
    const go = recommendContainer(policy, { usage: tiny, runtime: 'go', bounds: {}, cpuHpa: false });
    expect(java).toMatchObject({ cpu: 0.5 });
    expect(go).toMatchObject({ cpu: 0.01 });
  });

  it('clamps into the LimitRange bounds', () => {
    const r = recommendContainer(policy, { usage: usage({ cpuQuantile: 8, memoryMax: 1 * MIB }), runtime: 'go', bounds: { max: { cpu: 2 }, min: { memory: 64 * MIB } }, cpuHpa: false });
    expect(r).toMatchObject({ cpu: 2, memory: 64 * MIB });
  });

  it('recommends memory only when an HPA scales on CPU, and says so', () => {
    const r = recommendContainer(policy, { usage: usage(), runtime: 'go', bounds: {}, cpuHpa: true });
    expect(r.kind).toBe('recommended');
    if (r.kind !== 'recommended') return;
    expect(r.cpu).toBeUndefined();
    expect(r.notes.join()).toContain('memory only');
    expect(r.daily.every((d) => d.cpu === undefined)).toBe(true);
  });

  it('applies the same rule to each day alone', () => {
    const r = recommendContainer(policy, { usage: usage({ daily: [...days(13), { day: '2026-11-14', cpu: 0.4, memory: 400 * MIB }] }), runtime: 'go', bounds: {}, cpuHpa: false });
    expect(r.kind === 'recommended' && r.daily.at(-1)).toEqual({ day: '2026-11-14', cpu: 0.46, memory: 460 * MIB });
  });
});
