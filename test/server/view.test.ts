/**
 * Intent versus reality: the pure projection and the JSON patches that carry its changes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffJsonPatch } from '../../src/server/json-patch.js';
import { applyDelta } from '../support/json-patch-oracle.js';
import { projectView } from '../../src/server/view.js';
import { webService } from './fixtures.js';

const NOW = '2026-01-01T00:10:00.000Z';

const rolling = webService('team-a', 'shop', {
  generation: 4,
  image: 'ghcr.io/acme/shop:2.0.0',
  status: {
    observedGeneration: 4,
    revision: 'rev-new',
    conditions: [{ type: 'Ready', status: 'False', reason: 'Progressing', message: 'canary at 50%', lastTransitionTime: '2026-01-01T00:05:00Z' }],
    rollout: {
      phase: 'Progressing',
      stableRevision: 'rev-old',
      canaryRevision: 'rev-new',
      stepIndex: 1,
      stepCount: 3,
      weight: 50,
      attempt: 0,
      history: [],
      currentRun: {
        id: 'rev-new-1-0',
        revision: 'rev-new',
        stepIndex: 1,
        phase: 'Running',
        startedAt: '2026-01-01T00:06:00Z',
        metrics: [
          { name: 'error-rate', template: 'error-rate', phase: 'Running', measurements: [{ phase: 'Successful', at: '2026-01-01T00:07:00Z', value: 0.001, stableValue: 0.002 }] },
        ],
      },
    },
  },
});

const deployments = [
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'shop', namespace: 'team-a', labels: { 'paved.dev/service': 'shop' } }, status: { readyReplicas: 3 } },
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'shop-canary', namespace: 'team-a', labels: { 'paved.dev/service': 'shop' } }, status: { readyReplicas: 2 } },
];
const route = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'shop', namespace: 'team-a', labels: { 'paved.dev/service': 'shop' } },
  spec: { rules: [{ backendRefs: [{ name: 'shop-stable', port: 80, weight: 50 }, { name: 'shop-canary', port: 80, weight: 50 }] }] },
};

describe('projectView', () => {
  it('separates intent from reality during a rollout', () => {
    const v = projectView({ webService: rolling, team: 'team-a', deployments, route }, NOW);
    expect(v.intent).toEqual({
      generation: 4,
      image: 'ghcr.io/acme/shop:2.0.0',
      revision: 'rev-new',
      step: 1,
      stepCount: 3,
      weight: 50,
      replicas: { min: 2, max: 5 },
    });
    expect(v.reality).toMatchObject({
      observedGeneration: 4,
      phase: 'Progressing',
      stableRevision: 'rev-old',
      canaryRevision: 'rev-new',
      routeWeights: { stable: 50, canary: 50 },
      readyPods: { stable: 3, canary: 2 },
      analysis: [{ metric: 'error-rate', value: 0.001, stableValue: 0.002, phase: 'Successful', at: '2026-01-01T00:07:00Z' }],
      converged: false,
      // First sight of a non-converged service: the Ready condition says since when.
      notConvergedSince: '2026-01-01T00:05:00Z',
    });
  });

  it('is converged when observed, healthy, promoted and all traffic on stable', () => {
    const ws = webService('team-a', 'shop', {
      generation: 5,
      status: {
        observedGeneration: 5,
        revision: 'rev-new',
        conditions: [{ type: 'Ready', status: 'True', reason: 'Available', message: '', lastTransitionTime: NOW }],
        rollout: { phase: 'Healthy', stableRevision: 'rev-new', stepIndex: 3, weight: 0, attempt: 0, history: [] },
      },
    });
    const v = projectView({ webService: ws, team: 'team-a' }, NOW);
    expect(v.reality.converged).toBe(true);
    expect(v.reality.notConvergedSince).toBeNull();
    expect(v.intent).toMatchObject({ step: null, weight: 0, revision: 'rev-new' });
  });

  // Fixed (issue 18): the view assumed three default steps; src/delivery/spec.ts has five
  // (10 -> analysis -> 50 -> analysis -> 100), read through src/delivery/rollout-reader.ts.
  it('counts the default delivery steps of src/delivery/spec.ts when the spec and status name none', () => {
    const ws = webService('team-a', 'shop', {
      generation: 2,
      status: { observedGeneration: 2, rollout: { phase: 'Progressing', stableRevision: 'a', canaryRevision: 'b', stepIndex: 1, weight: 10, attempt: 0, history: [] } },
    });
    expect(projectView({ webService: ws, team: 'team-a' }, NOW).intent).toMatchObject({ step: 1, stepCount: 5, weight: 10 });
    const explicit = { ...ws, spec: { ...(ws as { spec: object }).spec, delivery: { steps: [{ setWeight: 20 }, { setWeight: 100 }] } } };
    expect(projectView({ webService: explicit, team: 'team-a' }, NOW).intent.stepCount).toBe(2);
  });

  it('reads a status.rollout that is not a rollout state as no rollout', () => {
    const ws = webService('team-a', 'shop', { status: { phase: 'Ready', rollout: { phase: 7, weight: 'x' } } });
    const v = projectView({ webService: ws, team: 'team-a' }, NOW);
    expect(v.reality).toMatchObject({ phase: 'Ready', stableRevision: null, canaryRevision: null, analysis: [], failure: null });
  });

  it('is not converged while the controller has not observed the generation, and remembers since when', () => {
    const ws = webService('team-a', 'shop', { generation: 2, status: { observedGeneration: 1 } });
    const first = projectView({ webService: ws, team: 'team-a' }, '2026-01-01T00:00:00Z');
    expect(first.reality).toMatchObject({ converged: false, notConvergedSince: '2026-01-01T00:00:00Z' });
    const later = projectView({ webService: ws, team: 'team-a' }, '2026-01-01T00:09:00Z', first);
    expect(later.reality.notConvergedSince).toBe('2026-01-01T00:00:00Z');
  });

  it('never throws on odd status shapes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (status) => {
        const ws = { ...webService('n', 's'), status } as never;
        const v = projectView({ webService: ws, team: 't', deployments: [{ status } as never], route: { spec: status } as never }, NOW);
        expect(typeof v.reality.converged).toBe('boolean');
      }),
      { numRuns: 300 },
    );
  });
});

describe('JSON patches', () => {
  // A `__proto__` key is never in an API server's JSON, and the patch library refuses to write one
  // (prototype pollution), so the round trip is checked on documents without it.
  const patchableJson = fc.jsonValue().filter((v) => !JSON.stringify(v).includes('"__proto__"'));

  it('apply(a, diff(a, b)) = b, nulls included', () => {
    fc.assert(
      fc.property(patchableJson, patchableJson, (a, b) => {
        expect(applyDelta(a, diffJsonPatch(a, b))).toEqual(b);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps a value that became null, and escapes keys', () => {
    const ops = diffJsonPatch({ r: { since: 'x', 'a/b~c': 1 } }, { r: { since: null, 'a/b~c': 2 } });
    expect(ops).toEqual([
      { op: 'replace', path: '/r/since', value: null },
      { op: 'replace', path: '/r/a~1b~0c', value: 2 },
    ]);
    expect(applyDelta({ r: { since: 'x', 'a/b~c': 1 } }, ops)).toEqual({ r: { since: null, 'a/b~c': 2 } });
  });

  it('is empty for equal documents', () => {
    expect(diffJsonPatch({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toEqual([]);
  });
});
