/** The pages' pure helpers: step bar, intent beside reality, the steps field, errors to fields. */
import { describe, expect, it } from 'vitest';
import { canAct, editableIntent, fieldOf, formIntent, EMPTY_FORM, imageTag, intentRows, parseSteps, stepBar, threshold } from '../src/model.js';
import type { ServiceView } from '../src/types.js';

const base: ServiceView = {
  key: 'ns/web',
  namespace: 'ns',
  name: 'web',
  team: 'a',
  intent: { generation: 2, image: 'ghcr.io/acme/web:2.0.0', revision: 'r2', step: 2, stepCount: 5, weight: 50, replicas: { min: 2, max: 4 } },
  reality: {
    observedGeneration: 2,
    phase: 'Progressing',
    stableRevision: 'r1',
    canaryRevision: 'r2',
    routeWeights: { stable: 50, canary: 50 },
    readyPods: { stable: 2, canary: 1 },
    analysis: [],
    message: null,
    failure: null,
    conditions: [],
    converged: false,
    notConvergedSince: '2026-01-01T00:00:00Z',
  },
};
const steps = [{ setWeight: 10 }, { analysis: { templates: [{ templateName: 'gate' }] } }, { setWeight: 50 }, { pause: {} }, { setWeight: 100 }];

describe('stepBar', () => {
  it('marks the steps before the current one done and shows the canary weight', () => {
    const bar = stepBar(base, steps);
    expect(bar.items.map((i) => i.state)).toEqual(['done', 'done', 'current', 'todo', 'todo']);
    expect(bar.items.map((i) => i.label)).toEqual(['10%', 'analysis (gate)', '50%', 'pause', '100%']);
    expect(bar.percent).toBe(50);
  });

  it('is at 100% once promoted (no step, not rolled back) and at 0% after a rollback', () => {
    const done = { ...base, intent: { ...base.intent, step: null }, reality: { ...base.reality, phase: 'Healthy', routeWeights: { stable: 100, canary: 0 } } };
    expect(stepBar(done, steps)).toMatchObject({ percent: 100, summary: expect.stringContaining('complete') });
    const back = { ...done, reality: { ...done.reality, phase: 'RolledBack' } };
    expect(stepBar(back, steps)).toMatchObject({ percent: 0, summary: 'rolled back' });
    expect(stepBar(back, steps).items.every((i) => i.state === 'todo')).toBe(true);
  });

  it('shows the platform default steps when the service names none', () => {
    expect(stepBar(base, undefined).items).toHaveLength(5);
  });
});

describe('intentRows', () => {
  it('puts intent beside reality and marks what has not converged', () => {
    const rows = Object.fromEntries(intentRows(base).map((r) => [r.label, r]));
    expect(rows['Revision']).toMatchObject({ intent: 'r2', reality: 'r1', differs: true });
    expect(rows['Canary weight']).toMatchObject({ intent: '50%', reality: '50% on the route', differs: false });
    expect(rows['Generation']?.differs).toBe(false);
    expect(rows['Replicas']).toMatchObject({ reality: '3 ready (stable 2, canary 1)', differs: false });
  });
});

describe('the form', () => {
  it('parses the steps field, and names the bad entry', () => {
    expect(parseSteps('')).toEqual({});
    expect(parseSteps('10, analysis:gate, 50%, pause 30s, pause, 100').steps).toEqual([
      { setWeight: 10 },
      { analysis: { templates: [{ templateName: 'gate' }] } },
      { setWeight: 50 },
      { pause: { duration: '30s' } },
      { pause: {} },
      { setWeight: 100 },
    ]);
    expect(parseSteps('10, soon').error).toMatch(/"soon"/);
    expect(parseSteps('150').error).toMatch(/at most 100/);
  });

  it('builds the intent the API takes', () => {
    const { intent, errors } = formIntent({ ...EMPTY_FORM, name: 'shop', image: 'img:1', port: '8080', visibility: 'public', host: 'shop.example.com', dependencies: 'cart, pay/billing', steps: '10, 100' });
    expect(errors).toEqual({});
    expect(intent).toEqual({
      name: 'shop',
      image: 'img:1',
      port: 8080,
      scaling: { minReplicas: 2, maxReplicas: 4 },
      networking: { visibility: 'public', host: 'shop.example.com', dependencies: [{ service: 'cart' }, { namespace: 'pay', service: 'billing' }] },
      delivery: { steps: [{ setWeight: 10 }, { setWeight: 100 }] },
    });
    expect(formIntent({ ...EMPTY_FORM, steps: 'x' }).errors['delivery.steps']).toBeDefined();
  });

  it('maps the API error field to the form field', () => {
    expect(fieldOf('scaling.minReplicas')).toBe('minReplicas');
    expect(fieldOf('spec.networking.host')).toBe('host');
    expect(fieldOf('name')).toBe('name');
    expect(fieldOf('delivery.steps[0].pause.duration')).toBe('delivery.steps');
    expect(fieldOf('tier')).toBeNull();
    expect(fieldOf(undefined)).toBeNull();
  });

  it('an update keeps only the fields the strict intent takes', () => {
    const spec = { image: 'a:1', scaling: { minReplicas: 2 }, networking: { visibility: 'private', extra: 1 }, delivery: { steps: [{ setWeight: 10 }], analysis: {} }, unknown: true };
    expect(editableIntent(spec, 'a:2')).toEqual({ image: 'a:2', scaling: { minReplicas: 2 }, networking: { visibility: 'private' }, delivery: { steps: [{ setWeight: 10 }] } });
  });
});

describe('small helpers', () => {
  it('reads image tags, thresholds and who may act', () => {
    expect(imageTag('ghcr.io/acme/shop:1.4.2')).toBe('1.4.2');
    expect(imageTag('localhost:5000/shop')).toBe('latest');
    expect(threshold('result <= 0.05')).toEqual({ op: '<=', value: 0.05 });
    expect(threshold('canary <= stable * 1.5 + 0')).toBeNull();
    const caller = { subject: 'alice', groups: [], teams: ['a'], isPlatformAdmin: false, isFinance: false };
    expect(canAct(caller, 'a')).toBe(true);
    expect(canAct(caller, 'b')).toBe(false);
    expect(canAct({ ...caller, teams: [], isFinance: true }, 'a')).toBe(false);
    expect(canAct(null, 'a')).toBe(false);
  });
});
