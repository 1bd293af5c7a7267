import { describe, expect, it } from 'vitest';
import { bucketEnds, resolveWindow } from '../../src/cost/window.js';
import { CostInputError } from '../../src/cost/errors.js';

const now = new Date('2026-11-20T10:37:12Z');

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof CostInputError) return err.field;
    throw err;
  }
  return undefined;
}

describe('resolveWindow', () => {
  it('aligns a daily window to UTC midnight and leaves out the running day', () => {
    const w = resolveWindow({ window: '30d', step: '1d' }, now);
    expect(w.end.toISO()).toBe('2026-11-20T00:00:00.000Z');
    expect(w.start.toISO()).toBe('2026-10-21T00:00:00.000Z');
    expect(w.stepSeconds).toBe(86_400);
    expect(bucketEnds(w)).toHaveLength(30);
  });

  it('aligns an hourly window to the last whole hour', () => {
    const w = resolveWindow({ window: '12h', step: '1h' }, now);
    expect(w.end.toISO()).toBe('2026-11-20T10:00:00.000Z');
    expect(bucketEnds(w)).toHaveLength(12);
  });

  it('defaults to 30d by 1d', () => {
    const w = resolveWindow({}, now);
    expect(bucketEnds(w)).toHaveLength(30);
  });

  it('accepts explicit RFC 3339 start/end with offsets', () => {
    const w = resolveWindow({ start: '2026-11-01T01:00:00+01:00', end: '2026-11-08T00:00:00Z', step: '1d' }, now);
    expect(w.start.toISO()).toBe('2026-11-01T00:00:00.000Z');
    expect(bucketEnds(w).map((d) => d.toISO())).toContain('2026-11-08T00:00:00.000Z');
  });

  it.each([
    [{ window: '30x' }, 'window'],
    [{ window: '0d' }, 'window'],
    [{ window: '30d', step: '7d' }, 'step'],
    [{ window: '1d', step: '2d' }, 'step'],
    [{ window: '30d', step: '90m' }, 'step'],
    [{ window: '500d' }, 'window'],
    [{ window: '30d', start: '2026-11-01T00:00:00Z' }, 'window'],
    [{ start: '2026-11-01T00:00:00Z' }, 'end'],
    [{ start: 'yesterday', end: '2026-11-02T00:00:00Z' }, 'start'],
    [{ start: '2026-11-01T00:30:00Z', end: '2026-11-02T00:00:00Z' }, 'start'],
    [{ start: '2026-11-01T00:00:00Z', end: '2026-11-21T00:00:00Z' }, 'end'],
    [{ start: '2026-11-02T00:00:00Z', end: '2026-11-01T00:00:00Z' }, 'end'],
    [{ start: '2026-11-01T00:00:00Z', end: '2026-11-01T05:00:00Z', step: '2h' }, 'step'],
    [{ window: '1000d', step: '1h' }, 'window'],
    [{ window: '60d', step: '1h' }, 'step'],
  ])('rejects %j naming %s', (input, field) => {
    expect(fieldOf(() => resolveWindow(input, now))).toBe(field);
  });

  it('a window ending in the running hour is in the future', () => {
    expect(fieldOf(() => resolveWindow({ start: '2026-11-20T09:00:00Z', end: '2026-11-20T11:00:00Z', step: '1h' }, now))).toBe('end');
    expect(resolveWindow({ start: '2026-11-20T09:00:00Z', end: '2026-11-20T10:00:00Z', step: '1h' }, now).stepSeconds).toBe(3600);
  });
});
