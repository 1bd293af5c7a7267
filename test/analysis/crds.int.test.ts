/** The AnalysisTemplate CRDs on the real API server: defaults applied, and the CEL rules reject bad templates with their message. */
import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { loadBuiltinTemplates } from '../../src/analysis/templates.js';
import { KubeClients } from '../../src/kube/index.js';
import { parse } from 'yaml';
import { readdirSync, readFileSync } from 'node:fs';
import { adminKubeConfig, createTestNamespace, uniqueName } from '../support/cluster.js';

const clients = KubeClients.fromKubeConfig(adminKubeConfig());

async function create(ns: string, metrics: unknown[]): Promise<KubernetesObject & { spec: { metrics: Array<Record<string, unknown>> } }> {
  const path = await clients.resourcePath({ apiVersion: 'paved.dev/v1alpha1', kind: 'AnalysisTemplate', namespace: ns });
  return clients.request({ method: 'POST', path, body: { apiVersion: 'paved.dev/v1alpha1', kind: 'AnalysisTemplate', metadata: { name: uniqueName('t') }, spec: { metrics } } });
}

async function rejection(ns: string, metrics: unknown[]): Promise<string> {
  try {
    await create(ns, metrics);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  throw new Error('accepted');
}

describe('AnalysisTemplate CRDs (real API server)', () => {
  it('apply the defaults', async () => {
    const ns = await createTestNamespace('at-defaults');
    const t = await create(ns, [{ name: 'e', query: 'vector(0)', max: 1 }]);
    expect(t.spec.metrics[0]).toMatchObject({ interval: '1m', count: 3, failureLimit: 0, inconclusiveLimit: 0, consecutiveErrorLimit: 4 });
  });

  it('reject bad templates with a message that says what to fix', async () => {
    const ns = await createTestNamespace('at-rules');
    expect(await rejection(ns, [{ name: 'e', query: 'q' }])).toContain('set exactly one of successCondition, min/max, or comparison');
    expect(await rejection(ns, [{ name: 'e', query: 'q', max: 1, successCondition: 'result < 1' }])).toContain('set exactly one');
    expect(await rejection(ns, [{ name: 'e', query: 'q', min: 2, max: 1 }])).toContain('min must not be greater than max');
    expect(await rejection(ns, [{ name: 'e', query: 'q{a="x"}', comparison: { maxRatio: 2 } }])).toContain('needs {{track}} in the query');
    expect(await rejection(ns, [{ name: 'e', query: 'q{a="{{team}}"}', max: 1 }])).toContain('unknown placeholder');
    expect(await rejection(ns, [{ name: 'e', query: 'q', max: 1, count: 2, inconclusiveLimit: 2 }])).toContain('inconclusiveLimit must be smaller than count');
    expect(await rejection(ns, [{ name: 'e', query: 'q', successCondition: 'result[0] < 1' }])).toMatch(/successCondition/);
    expect(await rejection(ns, [{ name: 'e', query: 'q', max: 1, interval: 'soon' }])).toMatch(/interval/);
    expect(await rejection(ns, [{ name: 'e', query: 'q', max: 1 }, { name: 'e', query: 'q', max: 2 }])).toMatch(/Duplicate/i);
  });

  it('accept every built-in template as a ClusterAnalysisTemplate', async () => {
    const dir = new URL('../../analysis-templates/', import.meta.url);
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) {
      const obj = parse(readFileSync(new URL(file, dir), 'utf8')) as KubernetesObject;
      obj.metadata = { ...obj.metadata, name: uniqueName(obj.metadata?.name ?? 'x') };
      const path = await clients.resourcePath({ apiVersion: 'paved.dev/v1alpha1', kind: 'ClusterAnalysisTemplate' });
      const created = await clients.request<KubernetesObject>({ method: 'POST', path, body: obj });
      expect(created.metadata?.name).toBe(obj.metadata.name);
      await clients.delete({ apiVersion: 'paved.dev/v1alpha1', kind: 'ClusterAnalysisTemplate', name: obj.metadata.name! });
    }
    expect((await loadBuiltinTemplates()).size).toBe(4);
  });
});
