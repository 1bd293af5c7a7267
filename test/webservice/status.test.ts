import { describe, expect, it } from 'vitest';
import { assessStatus, objectReadiness, planPrune } from '../../src/webservice/index.js';
import { eventWorthyConditions } from '../../src/webservice/status.js';
import { webService } from './fixtures.js';

const ws = webService('shop', 'team-a', { image: 'ghcr.io/a/s:1' });
const deployment = (available: number, desired = 2) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'shop', generation: 2 },
  spec: { replicas: desired },
  status: { observedGeneration: 2, replicas: desired, updatedReplicas: desired, availableReplicas: available, readyReplicas: available },
});

describe('status', () => {
  it('judges readiness', () => {
    expect(objectReadiness(deployment(2)).ready).toBe(true);
    expect(objectReadiness(deployment(1)).ready).toBe(false);
    expect(objectReadiness({ apiVersion: 'v1', kind: 'Service' }).ready).toBe(true);
    expect(objectReadiness(undefined).ready).toBe(false);
  });

  it('plans pruning of objects no longer rendered', () => {
    const prev = [
      { apiVersion: 'v1', kind: 'Service', name: 'shop' },
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', name: 'shop' },
    ];
    expect(planPrune(prev, [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'shop' } }])).toEqual([prev[1]]);
  });

  it('keeps the ConfigMaps a rendered pod template still reads (the stable revision\'s config), prunes the others', () => {
    const cms = ['shop-config-aaaaaaaaaa', 'shop-config-bbbbbbbbbb', 'shop-config-cccccccccc'].map((name) => ({ apiVersion: 'v1', kind: 'ConfigMap', name }));
    const deployment = (name: string, config: string) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name },
      spec: { template: { spec: { containers: [{ name: 'app', envFrom: [{ configMapRef: { name: config } }] }] } } },
    });
    const rendered = [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shop-config-cccccccccc' } },
      deployment('shop', 'shop-config-aaaaaaaaaa'), // stable: the stable revision's template
      deployment('shop-canary', 'shop-config-cccccccccc'),
    ];
    expect(planPrune(cms, rendered)).toEqual([cms[1]]);
  });

  it('is Available when every object is ready, and stable across identical passes', () => {
    const desired = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'shop' } };
    const input = { tier: 'managed' as const, revision: 'r1', violations: [], outcome: { kind: 'applied' as const, objects: [{ desired, live: deployment(2) }] } };
    const s1 = assessStatus({ ...input, ws, now: '2026-01-01T00:00:00Z' });
    expect(s1.conditions?.find((c) => c.type === 'Available')).toMatchObject({ status: 'True', reason: 'Available' });
    expect(s1.inventory).toEqual([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'shop', ready: true, message: '2/2 available, 2 updated' }]);
    const s2 = assessStatus({ ...input, ws: { ...ws, status: s1 }, now: '2026-01-02T00:00:00Z' });
    expect(s2).toEqual(s1);
  });

  it('keeps fields it does not own and reports policy violations without touching the inventory', () => {
    const prior = { rollout: { step: 2 }, inventory: [{ apiVersion: 'v1', kind: 'Service', name: 'shop' }] };
    const v = { policy: 'no-privileged', object: 'Deployment/shop', field: 'spec.x', message: 'no', mode: 'enforce' as const };
    const s = assessStatus({ ws: { ...ws, status: prior }, tier: 'advanced', revision: 'r', violations: [v], outcome: { kind: 'policy-violation' }, now: 0 });
    expect(s.rollout).toEqual({ step: 2 });
    expect(s.inventory).toEqual(prior.inventory);
    expect(s.conditions?.find((c) => c.type === 'PolicyViolation')).toMatchObject({ status: 'True', message: expect.stringContaining('no-privileged: Deployment/shop spec.x') });
    expect(s.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PolicyViolation' });
  });

  it('finds Events only in transitions into or out of a bad state, none in a healthy creation', () => {
    const t = '2026-01-01T00:00:00Z';
    const c = (type: string, status: 'True' | 'False', reason: string) => ({ type, status, reason, message: '', lastTransitionTime: t });
    const created = [c('PolicyViolation', 'False', 'Reconciled'), c('Available', 'False', 'Progressing'), c('Ready', 'False', 'Progressing'), c('Degraded', 'False', 'RolloutCompleted')];
    expect(eventWorthyConditions(undefined, created)).toEqual([]);
    const available = [c('PolicyViolation', 'False', 'Reconciled'), c('Available', 'True', 'Available'), c('Ready', 'True', 'Reconciled'), c('Degraded', 'False', 'RolloutCompleted')];
    expect(eventWorthyConditions(created, available)).toEqual([]);
    const violating = [c('PolicyViolation', 'True', 'PolicyViolation'), c('Ready', 'False', 'PolicyViolation')];
    expect(eventWorthyConditions(available, violating).map((x) => x.type)).toEqual(['PolicyViolation', 'Ready']);
    expect(eventWorthyConditions(violating, available).map((x) => x.type)).toEqual(['PolicyViolation', 'Ready']);
    expect(eventWorthyConditions(undefined, [c('DependenciesAllowed', 'False', 'DependencyNotAllowed')]).map((x) => x.type)).toEqual(['DependenciesAllowed']);
    expect(eventWorthyConditions(available, [c('Degraded', 'True', 'AnalysisFailed')]).map((x) => x.type)).toEqual(['Degraded']);
  });
});
