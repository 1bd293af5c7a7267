/**
 * Confining namespaced AnalysisTemplate queries to the WebService's namespace (pure): every selector
 * gets namespace="{{namespace}}", whatever shape the query has; what cannot be confined is refused with
 * the reason; ClusterAnalysisTemplates are left alone.
 */
import { describe, expect, it } from 'vitest';
import { NAMESPACE_MATCHER, confineQueryTemplate } from '../../src/analysis/confine-query.js';
import { renderQuery } from '../../src/analysis/render-query.js';
import { resolveMetrics } from '../../src/analysis/templates.js';

const ns = NAMESPACE_MATCHER;
const confine = (q: string): string => {
  const r = confineQueryTemplate(q);
  if ('error' in r) throw new Error(r.error);
  return r.query;
};
const refusal = (q: string): string => {
  const r = confineQueryTemplate(q);
  return 'error' in r ? r.error : `confined: ${r.query}`;
};

describe('confineQueryTemplate', () => {
  it.each([
    ['up', `up{${ns}}`],
    ['up{}', `up{${ns}}`],
    ['up{job="x"}', `up{job="x",${ns}}`],
    ['up{job="x",}', `up{job="x",${ns}}`],
    ['{__name__=~"http_.*"}', `{__name__=~"http_.*",${ns}}`],
    ['{"my.metric", job="x"}', `{"my.metric", job="x",${ns}}`],
    ['rate(http_requests_total[{{interval}}])', `rate(http_requests_total{${ns}}[{{interval}}])`],
    ['sum by (le) (rate(h_bucket{service="{{service}}"}[{{ interval }}]))', `sum by (le) (rate(h_bucket{service="{{service}}",${ns}}[{{ interval }}]))`],
    ['a / on(pod) group_left b', `a{${ns}} / on(pod) group_left b{${ns}}`],
    ['max_over_time(x[5m:30s]) offset 1h', `max_over_time(x{${ns}}[5m:30s]) offset 1h`],
    ['x @ 1700000000', `x{${ns}} @ 1700000000`],
    ['(sum(rate(e{code=~"5.."}[1m])) or vector(0)) / sum(rate(e[1m]))', `(sum(rate(e{code=~"5..",${ns}}[1m])) or vector(0)) / sum(rate(e{${ns}}[1m]))`],
    ['label_replace(up, "namespace", "other", "", "")', `label_replace(up{${ns}}, "namespace", "other", "", "")`],
    ['count(absent(up))', `count(absent(up{${ns}}))`],
    ['scalar(vector(1))', 'scalar(vector(1))'],
    ['histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))', `histogram_quantile(0.99, sum by (le) (rate(h_bucket{${ns}}[5m])))`],
  ])('%s', (query, expected) => {
    expect(confine(query)).toBe(expected);
  });

  it('keeps a selector that is already confined, and is idempotent', () => {
    expect(confine('x{namespace="{{namespace}}"}')).toBe('x{namespace="{{namespace}}"}');
    const once = confine('sum(rate(a[1m])) / sum(rate(b{job="j"}[1m]))');
    expect(confine(once)).toBe(once);
  });

  it.each([
    ['x{namespace="team-b"}', 'namespace="team-b"'],
    ['x{namespace=~".*"}', 'namespace=~".*"'],
    ['x{namespace!="{{namespace}}"}', 'namespace!="{{namespace}}"'],
    ['sum(a) + b{namespace=~"team-.+"}', 'namespace=~"team-.+"'],
    ['{"namespace"="team-b"}', 'namespace="team-b"'],
    ["x{namespace='{{namespace}}'}", 'namespace='],
  ])('refuses %s, naming the matcher', (query, named) => {
    const why = refusal(query);
    expect(why).toContain(named);
    expect(why).toContain('may only read its own namespace');
  });

  it('refuses what does not parse and quoted label names with escapes', () => {
    expect(refusal('sum(rate(x[5m]')).toContain('does not parse as PromQL');
    expect(refusal('x{{{namespace}}}')).toContain('does not parse');
    expect(refusal('{"name\\u0073pace"="b"}')).toContain('uses escapes');
    expect(refusal('')).toContain('empty');
  });

  it('renders to a query confined to the WebService namespace, with the value escaped', () => {
    const rendered = renderQuery(confine('sum(rate(http_requests_total{track="{{track}}"}[{{interval}}]))'), {
      namespace: 'team-a',
      service: 'shop',
      track: 'canary',
      revision: 'r1',
      interval: '30s',
    });
    expect(rendered).toBe('sum(rate(http_requests_total{track="canary",namespace="team-a"}[30s]))');
  });
});

describe('resolveMetrics', () => {
  const spec = (query: string) => ({ metrics: [{ name: 'm', query, interval: '30s', max: 1 }] }) as never;
  it('confines namespaced templates and leaves ClusterAnalysisTemplates as the platform wrote them', () => {
    const [own] = resolveMetrics([{ name: 'mine' }], () => spec('sum(up)'));
    expect(own?.metric.query).toBe(`sum(up{${ns}})`);
    const [platform] = resolveMetrics([{ name: 'error-rate', clusterScope: true }], () => spec('sum(up)'));
    expect(platform?.metric.query).toBe('sum(up)');
  });

  it('refuses a hostile namespaced template with a clear reason naming the template and metric', () => {
    expect(() => resolveMetrics([{ name: 'peek' }], () => spec('sum(rate(http_requests_total{namespace="team-b"}[1m]))'), 'spec.delivery.steps[1]')).toThrow(
      /spec\.delivery\.steps\[1\].*AnalysisTemplate\/peek metric m: spec\.metrics\.query cannot be confined to the namespace: .*namespace="team-b"/,
    );
  });
});
