import { describe, expect, it } from 'vitest';
import { loadBuiltinTemplates } from '../../src/analysis/templates.js';
import { TemplateSource, type TemplateLookup } from '../../src/analysis/template-source.js';
import { normalizeDelivery } from '../../src/delivery/spec.js';

/** A stand-in for the informer caches, keyed `Kind/namespace/name` (cluster-scoped: empty namespace). */
function lookupIn(store: Map<string, unknown>): TemplateLookup {
  return (kind, namespace, name) => {
    const key = `${kind}/${kind === 'AnalysisTemplate' ? namespace : ''}/${name}`;
    if (key === 'AnalysisTemplate/ns/boom') throw new Error('cache exploded');
    return store.get(key) as never;
  };
}

describe('TemplateSource', () => {
  it('falls back to the built-in templates for the default gates', async () => {
    const src = new TemplateSource(await loadBuiltinTemplates(), lookupIn(new Map()));
    const steps = src.resolveSteps(normalizeDelivery(undefined), 'ns');
    expect([...steps.keys()]).toEqual([1, 3]);
    const one = steps.get(1)!;
    expect('metrics' in one && one.metrics.map((m) => `${m.template}:${m.metric.name}`)).toEqual([
      'ClusterAnalysisTemplate/error-rate:error-rate',
      'ClusterAnalysisTemplate/latency-p99:latency-p99',
    ]);
  });

  it('prefers the installed template and reports a missing or invalid one', async () => {
    const store = new Map<string, unknown>([
      ['ClusterAnalysisTemplate//error-rate', { spec: { metrics: [{ name: 'error-rate', query: 'q', max: 0.5 }] } }],
      ['AnalysisTemplate/ns/bad', { spec: { metrics: [{ name: 'x', query: 'q' }] } }],
    ]);
    const src = new TemplateSource(await loadBuiltinTemplates(), lookupIn(store));
    const spec = normalizeDelivery({ steps: [{ analysis: { templates: [{ templateName: 'error-rate', clusterScope: true }] } }, { analysis: { templates: [{ templateName: 'gone' }] } }, { analysis: { templates: [{ templateName: 'bad' }] } }] });
    const steps = src.resolveSteps(spec, 'ns');
    const first = steps.get(0)!;
    expect('metrics' in first && first.metrics[0]?.metric.max).toBe(0.5);
    expect(steps.get(1)).toEqual({ error: 'spec.delivery.steps[1]: AnalysisTemplate/gone not found' });
    expect(steps.get(2)).toMatchObject({ error: expect.stringContaining('AnalysisTemplate/bad') });
  });

  it('turns a failing lookup into a step error, not a crash', () => {
    const src = new TemplateSource(new Map(), lookupIn(new Map()));
    const steps = src.resolveSteps(normalizeDelivery({ steps: [{ analysis: { templates: [{ templateName: 'boom' }] } }] }), 'ns');
    expect(steps.get(0)).toMatchObject({ error: expect.any(String) });
  });

  it('reads the watch cache at every resolve: an edit counts at the next one', async () => {
    const store = new Map<string, unknown>([['AnalysisTemplate/ns/gate', { spec: { metrics: [{ name: 'gate', query: 'vector(0)', max: 1 }] } }]]);
    const src = new TemplateSource(await loadBuiltinTemplates(), lookupIn(store));
    const spec = normalizeDelivery({ steps: [{ analysis: { templates: [{ templateName: 'gate' }] } }, { analysis: { templates: [{ templateName: 'error-rate', clusterScope: true }] } }] });
    const first = src.resolveSteps(spec, 'ns').get(0)!;
    expect('metrics' in first && first.metrics[0]?.metric.query).toBe('vector(0)');
    store.set('AnalysisTemplate/ns/gate', { spec: { metrics: [{ name: 'gate', query: 'vector(2)', max: 1 }] } });
    const steps = src.resolveSteps(spec, 'ns');
    const edited = steps.get(0)!;
    expect('metrics' in edited && edited.metrics[0]?.metric.query).toBe('vector(2)');
    const builtin = steps.get(1)!;
    expect('metrics' in builtin && builtin.metrics[0]?.template).toBe('ClusterAnalysisTemplate/error-rate'); // not installed: the built-in
  });
});
