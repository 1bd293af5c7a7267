import { DateTime } from 'luxon';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assessBurn, assessIdle, assessTrend, budgetStatus, costPerDeployment, priceQuantities, zeroQuantities } from '../../src/cost/model.js';
import { DEFAULT_PRICING, parsePricing } from '../../src/cost/pricing.js';
import { InvalidSpecError } from '../../src/errors.js';

const q = (over: Partial<ReturnType<typeof zeroQuantities>>) => ({ ...zeroQuantities(), ...over });

describe('priceQuantities', () => {
  it('prices allocation at the OpenCost defaults', () => {
    const line = priceQuantities(q({ cpuAllocated: 10, memoryAllocated: 100, storage: 730 }), DEFAULT_PRICING);
    expect(line.cpuCost).toBeCloseTo(0.31611, 10);
    expect(line.memoryCost).toBeCloseTo(0.4237, 10);
    expect(line.storageCost).toBeCloseTo(0.04 * 730 / 730, 10);
    expect(line.totalCost).toBeCloseTo(0.31611 + 0.4237 + 0.04, 10);
  });

  it('idle is allocated minus used, efficiency used over requested', () => {
    const line = priceQuantities(q({ cpuAllocated: 10, cpuRequested: 10, cpuUsed: 2, memoryAllocated: 4, memoryRequested: 4, memoryUsed: 1 }), DEFAULT_PRICING);
    expect(line.idleCost).toBeCloseTo(8 * 0.031611 + 3 * 0.004237, 10);
    expect(line.cpuEfficiency).toBeCloseTo(0.2);
    expect(line.memoryEfficiency).toBeCloseTo(0.25);
  });

  it('no request means no efficiency, not a division by zero', () => {
    expect(priceQuantities(zeroQuantities(), DEFAULT_PRICING).cpuEfficiency).toBeNull();
  });

  it('cost is never below the cost of usage nor of requests (property)', () => {
    fc.assert(
      fc.property(fc.float({ min: 0, max: 1e4, noNaN: true }), fc.float({ min: 0, max: 1e4, noNaN: true }), (req, use) => {
        const line = priceQuantities(q({ cpuAllocated: Math.max(req, use), cpuRequested: req, cpuUsed: use }), DEFAULT_PRICING);
        expect(line.cpuCost + 1e-9).toBeGreaterThanOrEqual(use * DEFAULT_PRICING.cpuCoreHour);
        expect(line.idleCost).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('storage can be switched off', () => {
    const p = parsePricing({ includeStorage: false });
    expect(priceQuantities(q({ storage: 1000 }), p).totalCost).toBe(0);
  });
});

describe('pricing file', () => {
  it('overrides some prices and keeps the other defaults', () => {
    const p = parsePricing({ cpuCoreHour: 0.05, budget: { warningRatio: 0.5 } });
    expect(p.cpuCoreHour).toBe(0.05);
    expect(p.memoryGiBHour).toBe(0.004237);
    expect(p.budget).toEqual({ warningRatio: 0.5, overRatio: 1 });
  });
  it('names a bad field', () => {
    expect(() => parsePricing({ cpuCoreHour: -1 })).toThrow(InvalidSpecError);
    expect(() => parsePricing({ cpuCoreHour: -1 })).toThrow(/pricing.cpuCoreHour/);
    expect(() => parsePricing({ cpuPrice: 1 })).toThrow(/pricing/);
  });
});

describe('burn rate and budget', () => {
  const thresholds = { warningRatio: 0.8, overRatio: 1 };
  it('projects month-to-date plus the 7-day burn rate over the rest of the month', () => {
    const a = assessBurn({
      now: DateTime.fromISO('2026-11-20T00:00:00Z', { zone: 'utc' }),
      monthToDateCost: 190,
      last7DaysCost: 70,
      monthlyBudget: 400,
      thresholds,
    });
    expect(a.burnRatePerDay).toBe(10);
    expect(a.remainingDays).toBe(11);
    expect(a.projectedMonthEndCost).toBe(300);
    expect(a.projectedRatio).toBe(0.75);
    expect(a.status).toBe('ok');
  });
  it.each([
    [0.79999, 'ok'],
    [0.8, 'warning'],
    [0.99, 'warning'],
    [1, 'over'],
    [3, 'over'],
  ])('ratio %d is %s', (r, s) => expect(budgetStatus(r, thresholds)).toBe(s));
  it('no budget, no status', () => {
    const a = assessBurn({ now: DateTime.utc(2026, 11, 20), monthToDateCost: 1, last7DaysCost: 1, monthlyBudget: undefined, thresholds });
    expect(a.status).toBeNull();
  });
});

describe('trend, idle, cost per deployment', () => {
  it('week over week', () => {
    expect(assessTrend(110, 100)).toMatchObject({ change: 10, direction: 'up' });
    expect(assessTrend(110, 100).changeRatio).toBeCloseTo(0.1);
    expect(assessTrend(100, 100.1).direction).toBe('flat');
    expect(assessTrend(5, 0)).toMatchObject({ changeRatio: null, direction: 'up' });
  });
  it('idle under 10% of request, savings at usage', () => {
    const a = assessIdle(q({ cpuAllocated: 100, cpuRequested: 100, cpuUsed: 5, memoryAllocated: 10, memoryRequested: 10, memoryUsed: 2 }), DEFAULT_PRICING);
    expect(a.idle).toBe(true);
    expect(a.savings).toBeCloseTo(95 * 0.031611 + 8 * 0.004237, 10);
    expect(assessIdle(q({ cpuAllocated: 100, cpuRequested: 100, cpuUsed: 10 }), DEFAULT_PRICING).idle).toBe(false);
    expect(assessIdle(q({ cpuUsed: 1, cpuAllocated: 1 }), DEFAULT_PRICING).idle).toBe(false);
  });
  it('cost per deployment', () => {
    expect(costPerDeployment(100, 4)).toBe(25);
    expect(costPerDeployment(100, 0)).toBeNull();
  });
});
