/**
 * Analysis query confinement against a real Prometheus and the real API server, tried as a hostile
 * team: team A writes AnalysisTemplates in its own namespace that try to read team B's series. The
 * templates are stored by the API server as written; paved resolves them as the delivery controller
 * does (resolveMetrics -> renderQuery) and queries Prometheus. A template naming B's namespace is
 * refused with the reason; one with no namespace matcher is confined to A's namespace and sees only
 * A's series, though Prometheus holds both teams'.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPrometheusProvider } from '../../src/analysis/prometheus-provider.js';
import { renderQuery } from '../../src/analysis/render-query.js';
import { resolveMetrics } from '../../src/analysis/templates.js';
import { templateSpecSchema, type TemplateSpec } from '../../src/analysis/types.js';
import { KubeClients } from '../../src/kube/index.js';
import { adminKubeConfig, createTestNamespace } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { startPrometheus, type LocalPrometheus } from '../support/prometheus.js';
import { startTrafficEmitter } from '../support/traffic-emitter.js';

const admin = KubeClients.fromKubeConfig(adminKubeConfig());
let prom: LocalPrometheus;
let nsA = '';
let nsB = '';

async function storeTemplate(namespace: string, name: string, query: string): Promise<TemplateSpec> {
  await admin.request({
    method: 'POST',
    path: `/apis/paved.dev/v1alpha1/namespaces/${namespace}/analysistemplates`,
    body: { apiVersion: 'paved.dev/v1alpha1', kind: 'AnalysisTemplate', metadata: { name }, spec: { metrics: [{ name: 'peek', query, interval: '2s', max: 1e9 }] } },
  });
  const stored = await admin.get<KubernetesObject & { spec: unknown }>({ apiVersion: 'paved.dev/v1alpha1', kind: 'AnalysisTemplate', namespace, name });
  return templateSpecSchema.parse(stored?.spec);
}

beforeAll(async () => {
  prom = await startPrometheus({ scrapeIntervalSeconds: 1 });
  nsA = await createTestNamespace('confine-a');
  nsB = await createTestNamespace('confine-b');
  for (const namespace of [nsA, nsB]) {
    const emitter = await startTrafficEmitter({ namespace, service: 'shop', requestsPerSecond: 20 });
    await prom.addTarget(`emitter-${namespace}`, emitter.hostPort);
  }
  const provider = createPrometheusProvider({ url: prom.url, timeoutMs: 2000 });
  await eventually(async () => {
    const both = await provider.query(`count(count by (namespace) (http_requests_total{namespace=~"${nsA}|${nsB}"}))`);
    expect(both.kind === 'value' && both.value).toBe(2);
  }, { timeoutMs: 60_000, intervalMs: 500 });
});

describe('a namespaced AnalysisTemplate reads only its own namespace', () => {
  it('refuses a template that names another namespace, naming the matcher', async () => {
    const spec = await storeTemplate(nsA, 'peek-b', `sum(http_requests_total{namespace="${nsB}"})`);
    expect(() => resolveMetrics([{ name: 'peek-b' }], () => spec, 'spec.delivery.steps[1]')).toThrow(
      new RegExp(`AnalysisTemplate/peek-b metric peek: spec.metrics.query cannot be confined to the namespace: .*namespace="${nsB}"`),
    );
    const regex = await storeTemplate(nsA, 'peek-any', 'sum(http_requests_total{namespace=~".+"})');
    expect(() => resolveMetrics([{ name: 'peek-any' }], () => regex)).toThrow(/may only read its own namespace/);
  });

  it('confines a template without a namespace matcher: Prometheus answers for team A only', async () => {
    const query = 'count(count by (namespace) (http_requests_total{service="shop"}))';
    const provider = createPrometheusProvider({ url: prom.url, timeoutMs: 2000 });
    const unconfined = await provider.query(query);
    expect(unconfined.kind === 'value' && unconfined.value).toBeGreaterThanOrEqual(2); // both teams' series exist

    const spec = await storeTemplate(nsA, 'count-all', query);
    const [resolved] = resolveMetrics([{ name: 'count-all' }], () => spec);
    const rendered = renderQuery(resolved!.metric.query, { namespace: nsA, service: 'shop', track: 'canary', revision: 'r', interval: '5s' });
    expect(rendered).toBe(`count(count by (namespace) (http_requests_total{service="shop",namespace="${nsA}"}))`);
    const confined = await provider.query(rendered);
    expect(confined).toMatchObject({ kind: 'value', value: 1 });
    // and the one namespace it sees is A's
    const labels = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(renderQuery(resolveMetrics([{ name: 'count-all' }], () => templateSpecSchema.parse({ metrics: [{ name: 'n', query: 'count by (namespace) (http_requests_total)', interval: '2s', max: 1 }] }))[0]!.metric.query, { namespace: nsA, service: 'shop', track: 'canary', revision: 'r', interval: '5s' }))}`);
    const body = (await labels.json()) as { data: { result: Array<{ metric: { namespace: string } }> } };
    expect(body.data.result.map((r) => r.metric.namespace)).toEqual([nsA]);
  });
});
