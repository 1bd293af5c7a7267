/**
 * The Prometheus provider and the built-in templates against a real Prometheus scraping the traffic
 * emitter every second: values, no data, errors (bad query, unreachable, timeout, Prometheus stopped),
 * and the canary-vs-stable comparison catching what the absolute threshold misses.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureMetric } from '../../src/analysis/measure.js';
import { createPrometheusProvider } from '../../src/analysis/prometheus-provider.js';
import { renderQuery } from '../../src/analysis/render-query.js';
import { loadBuiltinTemplates } from '../../src/analysis/templates.js';
import type { MetricSpec, TemplateSpec } from '../../src/analysis/types.js';
import { eventually } from '../support/eventually.js';
import { startPrometheus, type LocalPrometheus } from '../support/prometheus.js';
import { startTrafficEmitter, type TrafficEmitter } from '../support/traffic-emitter.js';

let prom: LocalPrometheus;
let emitter: TrafficEmitter;
let builtins: Map<string, TemplateSpec>;
const target = { namespace: 'shop', service: 'cart', canaryRevision: 'r2', stableRevision: 'r1' };

/** A built-in metric with test timing (2 s interval, 5 s rate window over a 1 s scrape). */
function builtin(name: string): MetricSpec {
  const m = builtins.get(name)!.metrics[0]!;
  return { ...m, interval: '2s', window: '5s' };
}

beforeAll(async () => {
  builtins = await loadBuiltinTemplates();
  prom = await startPrometheus({ scrapeIntervalSeconds: 1 });
  emitter = await startTrafficEmitter({ namespace: 'shop', service: 'cart', requestsPerSecond: 100 });
  emitter.setLatency('stable', 0.2);
  emitter.setLatency('canary', 0.2);
  await prom.addTarget('emitter', emitter.hostPort);
});
afterAll(async () => {
  await emitter?.stop();
});

describe('Prometheus provider', () => {
  it('returns the value of the error-rate template', async () => {
    emitter.setErrorRate('canary', 0.2);
    const provider = createPrometheusProvider({ url: prom.url, timeoutMs: 2000 });
    const m = builtin('error-rate');
    const q = renderQuery(m.query, { namespace: 'shop', service: 'cart', track: 'canary', revision: 'r2', interval: '5s' });
    await eventually(
      async () => {
        const r = await provider.query(q);
        expect(r.kind).toBe('value');
        expect(r.kind === 'value' && r.value).toBeCloseTo(0.2, 1);
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    emitter.setErrorRate('canary', 0);
  });

  it('returns noData for a track without traffic (NaN) and for series that do not exist (empty)', async () => {
    const provider = createPrometheusProvider({ url: prom.url, timeoutMs: 2000 });
    const quiet = await startTrafficEmitter({ namespace: 'quiet', service: 'idle', requestsPerSecond: 0 });
    try {
      await prom.addTarget('quiet', quiet.hostPort);
      const m = builtin('error-rate');
      const q = renderQuery(m.query, { namespace: 'quiet', service: 'idle', track: 'canary', revision: 'r', interval: '5s' });
      await eventually(
        async () => {
          // the series exist (scraped), the rate is 0/0
          const exists = await provider.query('count(http_requests_total{namespace="quiet"})');
          expect(exists).toMatchObject({ kind: 'value' });
          expect(await provider.query(q)).toEqual({ kind: 'noData' });
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      const lat = renderQuery(builtin('latency-p99').query, { namespace: 'quiet', service: 'idle', track: 'canary', revision: 'r', interval: '5s' });
      expect(await provider.query(lat)).toEqual({ kind: 'noData' });
      expect(await provider.query('http_requests_total{namespace="does-not-exist"}')).toEqual({ kind: 'noData' });
      // and a measurement of it is inconclusive
      expect((await measureMetric(provider, builtin('error-rate'), { ...target, namespace: 'quiet', service: 'idle' }, new Date())).phase).toBe(
        'Inconclusive',
      );
    } finally {
      await prom.removeTarget('quiet', quiet.hostPort);
      await quiet.stop();
    }
  });

  it('returns an error for a bad query, an ambiguous one, an unreachable server and a timeout, without throwing', async () => {
    const provider = createPrometheusProvider({ url: prom.url, timeoutMs: 2000 });
    const bad = await provider.query('sum(rate(http_requests_total[5s]');
    expect(bad.kind).toBe('error');
    expect(bad.kind === 'error' && bad.message).toMatch(/400|parse/);
    await eventually(async () => {
      const many = await provider.query('http_requests_total');
      expect(many.kind === 'error' && many.message).toMatch(/series/);
    });

    const unreachable = createPrometheusProvider({ url: 'http://127.0.0.1:1', timeoutMs: 1000 });
    const down = await unreachable.query('vector(1)');
    expect(down.kind).toBe('error');
    expect(down.kind === 'error' && down.message).toMatch(/ECONNREFUSED|network/);

    // a server that accepts connections and never answers
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as { port: number }).port;
      const slow = createPrometheusProvider({ url: `http://127.0.0.1:${port}`, timeoutMs: 500 });
      const started = Date.now();
      const r = await slow.query('vector(1)');
      expect(r.kind).toBe('error');
      expect(r.kind === 'error' && r.message).toMatch(/timeout/);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      silent.close();
    }
  });

  it('returns an error, never throws, when Prometheus is stopped', async () => {
    const own = await startPrometheus({ scrapeIntervalSeconds: 1 });
    const provider = createPrometheusProvider({ url: own.url, timeoutMs: 1000 });
    expect(await provider.query('vector(1)')).toEqual({ kind: 'value', value: 1 });
    await own.stop();
    const r = await provider.query('vector(1)');
    expect(r.kind).toBe('error');
    const m = await measureMetric(provider, builtin('error-rate'), target, new Date());
    expect(m.phase).toBe('Error');
  });
});

describe('canary against stable', () => {
  it('the comparison catches a latency regression that the absolute threshold misses', async () => {
    // An always-slow service: stable p99 around 0.4 s; the canary doubles it to about 0.9 s.
    emitter.setLatency('stable', 0.4);
    emitter.setLatency('canary', 0.9);
    const provider = createPrometheusProvider({ url: prom.url, timeoutMs: 2000 });
    const absolute: MetricSpec = { ...builtin('latency-p99'), max: 2.5 }; // an absolute gate set for a slow service
    const ratio = builtin('latency-p99-vs-stable');
    await eventually(
      async () => {
        const a = await measureMetric(provider, absolute, target, new Date());
        const c = await measureMetric(provider, ratio, target, new Date());
        expect(a.phase).toBe('Successful');
        expect(c.phase).toBe('Failed');
        expect(c.value).toBeGreaterThan(c.stableValue! * 1.5);
      },
      { timeoutMs: 40_000, intervalMs: 1000 },
    );
  });

  it('the error-rate comparison tolerates an unchanged flaky service and catches a doubled error rate', async () => {
    emitter.setErrorRate('stable', 0.05);
    emitter.setErrorRate('canary', 0.05);
    const provider = createPrometheusProvider({ url: prom.url, timeoutMs: 2000 });
    const absolute = builtin('error-rate'); // max 1%: would fail this service forever
    const ratio = builtin('error-rate-vs-stable');
    await eventually(
      async () => {
        expect((await measureMetric(provider, absolute, target, new Date())).phase).toBe('Failed');
        expect((await measureMetric(provider, ratio, target, new Date())).phase).toBe('Successful');
      },
      { timeoutMs: 40_000, intervalMs: 1000 },
    );
    emitter.setErrorRate('canary', 0.15);
    await eventually(
      async () => {
        expect((await measureMetric(provider, ratio, target, new Date())).phase).toBe('Failed');
      },
      { timeoutMs: 40_000, intervalMs: 1000 },
    );
    emitter.setErrorRate('stable', 0);
    emitter.setErrorRate('canary', 0);
  });
});
