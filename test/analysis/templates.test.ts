import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { interpretResult, isUnavailableError, normalizeInfinities, describeQueryError } from '../../src/analysis/prometheus-provider.js';
import { DEFAULT_TEMPLATE_REFS, loadBuiltinTemplates, parseTemplateSpec, resolveMetrics } from '../../src/analysis/templates.js';
import { renderQuery } from '../../src/analysis/render-query.js';
import { InvalidSpecError } from '../../src/errors.js';

const crd = (file: string) => parse(readFileSync(new URL(`../../crds/${file}`, import.meta.url), 'utf8'));
const metricSchema = (doc: any) => doc.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.metrics.items;

describe('AnalysisTemplate CRDs', () => {
  const ns = crd('paved.dev_analysistemplates.yaml');
  const cluster = crd('paved.dev_clusteranalysistemplates.yaml');
  it('share one schema', () => {
    expect(ns.spec.scope).toBe('Namespaced');
    expect(cluster.spec.scope).toBe('Cluster');
    expect(cluster.spec.versions[0].schema).toEqual(ns.spec.versions[0].schema);
  });
  it('have the defaults the zod schema applies', () => {
    const p = metricSchema(ns).properties;
    const parsed = parseTemplateSpec({ metrics: [{ name: 'x', query: 'q', max: 1 }] }, 't').metrics[0];
    for (const key of ['interval', 'count', 'failureLimit', 'inconclusiveLimit', 'consecutiveErrorLimit']) {
      expect(p[key].default, key).toEqual((parsed as any)[key]);
    }
  });
  it('check placeholders with a pattern the renderer agrees with', () => {
    const rule = metricSchema(ns).properties.query['x-kubernetes-validations'][0].rule as string;
    const re = new RegExp(/matches\('(.*)'\)/.exec(rule)![1]!);
    const vars = { namespace: 'n', service: 's', track: 'canary' as const, revision: 'r', interval: '1m' };
    for (const ok of ['sum(x{a="{{namespace}}"}[{{ interval }}])', 'x{}', 'x{', '{{track}}']) {
      expect(re.test(ok), ok).toBe(true);
      expect(() => renderQuery(ok, vars)).not.toThrow();
    }
    for (const bad of ['x{a="{{team}}"}', '{{}}']) expect(re.test(bad), bad).toBe(false);
  });
});

describe('built-in templates', () => {
  it('load and include error rate, p99 latency and both comparisons', async () => {
    const t = await loadBuiltinTemplates();
    expect([...t.keys()].sort()).toEqual(['error-rate', 'error-rate-vs-stable', 'latency-p99', 'latency-p99-vs-stable']);
    expect(t.get('error-rate-vs-stable')?.metrics[0]?.comparison).toEqual({ maxRatio: 1.5, tolerance: 0.005 });
    expect(t.get('latency-p99')?.metrics[0]?.query).toContain('histogram_quantile(0.99');
    for (const ref of DEFAULT_TEMPLATE_REFS) expect(t.has(ref.name)).toBe(true);
  });
  it('render to valid-looking PromQL with every label of the track', async () => {
    const t = await loadBuiltinTemplates();
    const q = renderQuery(t.get('error-rate')!.metrics[0]!.query, { namespace: 'shop', service: 'cart', track: 'canary', revision: 'r', interval: '30s' });
    expect(q).toContain('namespace="shop",service="cart",track="canary",code=~"5.."}[30s]');
    expect(q).toContain('or vector(0)');
  });
});

describe('resolveMetrics', () => {
  const spec = parseTemplateSpec({ metrics: [{ name: 'a', query: 'q', max: 1 }] }, 't');
  it('resolves references and labels them by kind', () => {
    const out = resolveMetrics([{ name: 'x', clusterScope: true }], () => spec);
    expect(out).toEqual([{ template: 'ClusterAnalysisTemplate/x', metric: spec.metrics[0] }]);
  });
  it('names a missing template', () => {
    expect(() => resolveMetrics([{ name: 'gone' }], () => undefined)).toThrow(/AnalysisTemplate\/gone not found/);
  });
  it('rejects the same metric name twice', () => {
    expect(() => resolveMetrics([{ name: 'x' }, { name: 'y' }], () => spec)).toThrow(InvalidSpecError);
  });
  it('reports the bad field of an invalid template', () => {
    expect(() => parseTemplateSpec({ metrics: [{ name: 'a', query: 'q', count: 0, max: 1 }] }, 'AnalysisTemplate/x')).toThrow(/spec\.metrics\.0\.count/);
  });
});

describe('Prometheus results', () => {
  it('reads one sample as a value', () => {
    expect(interpretResult('vector', [{ value: { value: 0.25 } }])).toEqual({ kind: 'value', value: 0.25 });
    expect(interpretResult('scalar', [1700000000, '3'])).toEqual({ kind: 'value', value: 3 });
  });
  it('reads empty results and NaN as no data', () => {
    expect(interpretResult('vector', [])).toEqual({ kind: 'noData' });
    expect(interpretResult('vector', [{ value: { value: NaN } }])).toEqual({ kind: 'noData' });
    expect(interpretResult('scalar', [1700000000, 'NaN'])).toEqual({ kind: 'noData' });
  });
  it('reads several series or a matrix as an error', () => {
    expect(interpretResult('vector', [{ value: { value: 1 } }, { value: { value: 2 } }]).kind).toBe('error');
    expect(interpretResult('matrix', []).kind).toBe('error');
  });
  it('keeps +Inf infinite (a very slow canary must fail, not be "no data")', () => {
    const body = { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, '+Inf'] }] } };
    normalizeInfinities(body);
    expect(parseFloat(body.data.result[0]!.value[1] as string)).toBe(Infinity);
  });
  it('describes the plain-object rejections of prometheus-query', () => {
    expect(describeQueryError({ status: 'error', errorType: 'network_error', error: 'connect ECONNREFUSED 127.0.0.1:1' })).toBe(
      'network_error: connect ECONNREFUSED 127.0.0.1:1',
    );
    expect(describeQueryError({ errorType: 'http_error', httpStatus: 400, error: 'parse error' })).toBe('http_error: 400: parse error');
    expect(describeQueryError(new Error('boom'))).toBe('boom');
  });
  it('tells a Prometheus that does not answer from one that rejects the query', () => {
    expect(isUnavailableError({ status: 'error', errorType: 'network_error', error: 'connect ECONNREFUSED 127.0.0.1:1' })).toBe(true);
    expect(isUnavailableError({ status: 'error', errorType: 'timeout_error', error: 'timeout of 2000ms exceeded' })).toBe(true);
    expect(isUnavailableError({ errorType: 'http_error', httpStatus: 503, error: 'Service Unavailable' })).toBe(true);
    expect(isUnavailableError({ errorType: 'http_error', httpStatus: 400, error: 'parse error' })).toBe(false);
    expect(isUnavailableError({ errorType: 'http_error', httpStatus: 422, error: 'execution error' })).toBe(false);
  });
});
