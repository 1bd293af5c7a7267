import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canaryReplicas, replicaShare } from '../../src/delivery/scaling.js';
import { normalizeDelivery } from '../../src/delivery/spec.js';
import { InvalidSpecError } from '../../src/errors.js';

describe('canary size relative to the HPA-owned stable count', () => {
  it('with Gateway API: ceil(stable * weight / 100), at least one pod', () => {
    expect(canaryReplicas(4, 10, 'gatewayAPI')).toBe(1);
    expect(canaryReplicas(4, 50, 'gatewayAPI')).toBe(2);
    expect(canaryReplicas(4, 100, 'gatewayAPI')).toBe(4);
    expect(canaryReplicas(10, 33, 'gatewayAPI')).toBe(4);
    expect(canaryReplicas(4, 0, 'gatewayAPI')).toBe(0);
    expect(canaryReplicas(0, 10, 'gatewayAPI')).toBe(1);
  });
  it('with a replica ratio: the share canary/(stable+canary) approximates the weight, at most 50%', () => {
    expect(canaryReplicas(9, 10, 'replicas')).toBe(1);
    expect(replicaShare(9, 1)).toBe(10);
    expect(canaryReplicas(4, 50, 'replicas')).toBe(4);
    expect(replicaShare(4, 4)).toBe(50);
    expect(canaryReplicas(4, 90, 'replicas')).toBe(4);
    expect(canaryReplicas(4, 100, 'replicas')).toBe(4);
  });
  it('never gives the canary less capacity than its share of traffic (Gateway API)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 100 }), (stable, weight) => {
        const c = canaryReplicas(stable, weight, 'gatewayAPI');
        expect(c / stable).toBeGreaterThanOrEqual(weight / 100);
        expect(c).toBeLessThanOrEqual(stable);
      }),
    );
  });
  it('grows monotonically with the weight and with the stable count', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 0, max: 99 }), fc.constantFrom('gatewayAPI' as const, 'replicas' as const), (s, w, mode) => {
        expect(canaryReplicas(s, w + 1, mode)).toBeGreaterThanOrEqual(canaryReplicas(s, w, mode));
        expect(canaryReplicas(s + 1, w, mode)).toBeGreaterThanOrEqual(canaryReplicas(s, w, mode));
      }),
    );
  });
});

describe('normalizeDelivery', () => {
  it('defaults to 10 -> 50 -> 100 gated by error rate and p99 latency', () => {
    const d = normalizeDelivery(undefined);
    expect(d.steps).toEqual([
      { setWeight: 10 },
      { analysis: { templates: [{ name: 'error-rate', clusterScope: true }, { name: 'latency-p99', clusterScope: true }] } },
      { setWeight: 50 },
      { analysis: { templates: [{ name: 'error-rate', clusterScope: true }, { name: 'latency-p99', clusterScope: true }] } },
      { setWeight: 100 },
    ]);
    expect(d.progressDeadlineMs).toBe(600_000);
    expect(d.scaleDownDelayMs).toBe(30_000);
  });
  it('uses delivery.analysis templates for the default gates and for analysis steps that name none', () => {
    const d = normalizeDelivery({
      analysis: { templates: [{ templateName: 'mine' }] },
      steps: [{ setWeight: 25 }, { pause: { duration: '1m' } }, { analysis: {} }, { pause: {} }],
      progressDeadlineSeconds: 60,
      scaleDownDelaySeconds: 0,
    });
    expect(d.steps).toEqual([
      { setWeight: 25 },
      { pause: { durationMs: 60_000 } },
      { analysis: { templates: [{ name: 'mine', clusterScope: false }] } },
      { pause: {} },
    ]);
    expect(d).toMatchObject({ progressDeadlineMs: 60_000, scaleDownDelayMs: 0 });
  });
  it('runs delivery.analysis in the background only with explicit steps', () => {
    expect(normalizeDelivery({ analysis: { templates: [{ templateName: 'x' }] } }).background).toBeUndefined();
    expect(normalizeDelivery({ steps: [{ setWeight: 50 }], analysis: { templates: [{ templateName: 'x' }], startingStep: 1 } }).background).toEqual({
      templates: [{ name: 'x', clusterScope: false }],
      startingStep: 1,
    });
  });

  it('names a bad pause duration', () => {
    expect(() => normalizeDelivery({ steps: [{ pause: { duration: 'soon' } }] })).toThrow(InvalidSpecError);
    expect(() => normalizeDelivery({ steps: [{ pause: { duration: 'soon' } }] })).toThrow(/spec\.delivery\.steps\[0\]\.pause\.duration/);
  });
});
