import { describe, expect, it } from 'vitest';
import { loadBuiltinTemplates } from '../../src/analysis/templates.js';
import { TemplateSource } from '../../src/analysis/template-source.js';
import { normalizeDelivery } from '../../src/delivery/spec.js';
import { KubeApiError } from '../../src/kube/index.js';
import type { KubeClients } from '../../src/kube/index.js';

/** A stand-in for the clients' `get` (the only call TemplateSource makes). */
function clientsWith(objects: Record<string, unknown>, calls: string[] = []): KubeClients {
  return {
    async get(ref: { kind: string; namespace?: string; name: string }) {
      const key = `${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
      calls.push(key);
      if (key === 'AnalysisTemplate/ns/boom') throw new KubeApiError(503, 'unavailable', 'GET');
      return objects[key];
    },
  } as unknown as KubeClients;
}

describe('TemplateSource', () => {
  it('falls back to the built-in templates for the default gates', async () => {
    const src = new TemplateSource(clientsWith({}), await loadBuiltinTemplates());
    const steps = await src.resolveSteps(normalizeDelivery(undefined), 'ns');
    expect([...steps.keys()]).toEqual([1, 3]);
    const one = steps.get(1)!;
    expect('metrics' in one && one.metrics.map((m) => `${m.template}:${m.metric.name}`)).toEqual([
      'ClusterAnalysisTemplate/error-rate:error-rate',
      'ClusterAnalysisTemplate/latency-p99:latency-p99',
    ]);
  });

  it('prefers the installed template, caches it, and reports a missing or invalid one', async () => {
    const calls: string[] = [];
    const clients = clientsWith(
      {
        'ClusterAnalysisTemplate//error-rate': { spec: { metrics: [{ name: 'error-rate', query: 'q', max: 0.5 }] } },
        'AnalysisTemplate/ns/bad': { spec: { metrics: [{ name: 'x', query: 'q' }] } },
      },
      calls,
    );
    const src = new TemplateSource(clients, await loadBuiltinTemplates(), 60_000);
    const spec = normalizeDelivery({ steps: [{ analysis: { templates: [{ templateName: 'error-rate', clusterScope: true }] } }, { analysis: { templates: [{ templateName: 'gone' }] } }, { analysis: { templates: [{ templateName: 'bad' }] } }] });
    const steps = await src.resolveSteps(spec, 'ns');
    const first = steps.get(0)!;
    expect('metrics' in first && first.metrics[0]?.metric.max).toBe(0.5);
    expect(steps.get(1)).toEqual({ error: 'spec.delivery.steps[1]: AnalysisTemplate/gone not found' });
    expect(steps.get(2)).toMatchObject({ error: expect.stringContaining('AnalysisTemplate/bad') });
    const n = calls.length;
    await src.resolveSteps(spec, 'ns');
    expect(calls.length).toBe(n); // cached
  });

  it('turns an API failure into a step error, not a crash', async () => {
    const src = new TemplateSource(clientsWith({}), new Map());
    const steps = await src.resolveSteps(normalizeDelivery({ steps: [{ analysis: { templates: [{ templateName: 'boom' }] } }] }), 'ns');
    expect(steps.get(0)).toMatchObject({ error: expect.any(String) });
  });

  it('reads from the watch cache when given one: an edit counts at the next resolve, with no API read', async () => {
    const calls: string[] = [];
    const store = new Map<string, unknown>([['AnalysisTemplate/ns/gate', { spec: { metrics: [{ name: 'gate', query: 'vector(0)', max: 1 }] } }]]);
    const src = new TemplateSource(clientsWith({}, calls), await loadBuiltinTemplates(), {
      lookup: (kind, namespace, name) => store.get(`${kind}/${kind === 'AnalysisTemplate' ? namespace : ''}/${name}`) as never,
    });
    const spec = normalizeDelivery({ steps: [{ analysis: { templates: [{ templateName: 'gate' }] } }, { analysis: { templates: [{ templateName: 'error-rate', clusterScope: true }] } }] });
    const first = (await src.resolveSteps(spec, 'ns')).get(0)!;
    expect('metrics' in first && first.metrics[0]?.metric.query).toBe('vector(0)');
    store.set('AnalysisTemplate/ns/gate', { spec: { metrics: [{ name: 'gate', query: 'vector(2)', max: 1 }] } });
    const steps = await src.resolveSteps(spec, 'ns');
    const edited = steps.get(0)!;
    expect('metrics' in edited && edited.metrics[0]?.metric.query).toBe('vector(2)');
    const builtin = steps.get(1)!;
    expect('metrics' in builtin && builtin.metrics[0]?.template).toBe('ClusterAnalysisTemplate/error-rate'); // not installed: the built-in
    expect(calls).toEqual([]);
  });
});
