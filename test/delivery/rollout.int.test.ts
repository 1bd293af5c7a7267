/**
 * End-to-end rollouts on the real API server (kwok runs the pods) with a real Prometheus scraping a
 * traffic emitter every second: the WebService controller plans each rollout step and applies it in
 * the same reconcile, exactly as in production. Each test has its own namespace, emitter and controllers.
 * Promotion and rollback here; pauses, deadline, spec changes and manual controls in
 * rollout-controls.int.test.ts (two files so that they run side by side).
 */
import { describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import {
  ERROR_RATE_QUERY,
  P99_QUERY,
  SLOW,
  errorGate,
  errorRateOf,
  prometheusProvider,
  release,
  rolloutFixture,
  startStack,
} from './stack.js';

const fx = rolloutFixture();

describe('progressive delivery end to end: promotion and rollback', () => {
  it('a healthy change goes 10 -> 50 -> 100 and is promoted, with the route weights observed at every step', async () => {
    const env = await fx.setup('rollout-healthy', errorGate);
    const before = (await env.k.rollout('shop')).stableRevision;
    await release(env, 'ghcr.io/acme/shop:2.0.0');
    const done = await eventually(async () => {
      const r = await env.k.rollout('shop');
      expect(r.phase).toBe('Healthy');
      expect(r.stableRevision).not.toBe(before);
      return r;
    }, SLOW);
    await eventually(() => expect(env.weights).toEqual([0, 10, 50, 100, 0]), SLOW);
    expect(done.history.map((h) => [h.stepIndex, h.phase])).toEqual([[1, 'Successful'], [3, 'Successful']]);
    const stable = await env.k.deployment('shop');
    expect(stable?.spec?.template.spec?.containers[0]?.image).toBe('ghcr.io/acme/shop:2.0.0');
    await eventually(async () => expect((await env.k.deployment('shop-canary'))?.spec?.replicas).toBe(0), SLOW);
    const reasons = (await env.k.events()).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['RolloutStarted', 'RolloutPromoted']));
  });

  it('an error-rate spike at 50% rolls back within failureLimit + 1 intervals and says which metric failed', async () => {
    // count 6: the analysis at 50% lasts long enough for the fault to be injected during it, whatever the load
    const env = await fx.setup('rollout-errors', [{ ...errorGate[0], count: 6 }]);
    await release(env, 'ghcr.io/acme/shop:2.0.0');
    await eventually(async () => expect((await env.k.rollout('shop')).weight).toBe(50), SLOW);
    env.emitter.setErrorRate('canary', 0.5);
    const r = await eventually(async () => {
      const s = await env.k.rollout('shop');
      expect(s.phase).toBe('RolledBack');
      return s;
    }, SLOW);
    expect(r.failure).toMatchObject({ reason: 'AnalysisFailed', metric: 'error-rate', condition: 'result <= 0.05' });
    expect(r.failure?.value).toBeGreaterThan(0.05);
    expect(r.failure?.query).toContain('track="canary"');
    expect(r.failure?.measuredAt).toBeDefined();
    // failureLimit 1: the rollback came with the 2nd failed measurement, not one interval later
    const run = r.history.at(-1)!;
    const metric = run.metrics[0]!;
    expect(metric.failed).toBe(2);
    const firstFail = metric.measurements.findIndex((m) => m.phase === 'Failed');
    expect(metric.measurements.length - firstFail).toBe(2);
    await eventually(async () => {
      expect(env.weights.at(-1)).toBe(0);
      expect((await env.k.deployment('shop-canary'))?.spec?.replicas).toBe(0);
    }, SLOW);
    expect((await env.k.deployment('shop'))?.spec?.template.spec?.containers[0]?.image).toBe('ghcr.io/acme/shop:1.0.0');
    expect((await env.k.events()).map((e) => e.reason)).toContain('RolloutRolledBack');

    // not retried by itself; a retry (annotation) goes again without deleting anything
    env.emitter.setErrorRate('canary', 0);
    const provider = prometheusProvider(fx.prom().url);
    await eventually(async () => {
      const now = await provider.query(errorRateOf(env.ns, 'canary'));
      expect(now.kind === 'value' && now.value).toBe(0); // the rate window has forgotten the fault
    }, SLOW);
    await env.k.action('shop', 'retry');
    await eventually(async () => {
      const s = await env.k.rollout('shop');
      expect(s.phase).toBe('Healthy');
      expect(s.failedRevision).toBeUndefined();
      expect((await env.k.deployment('shop'))?.spec?.template.spec?.containers[0]?.image).toBe('ghcr.io/acme/shop:2.0.0');
    }, SLOW);
    expect((await env.k.webService('shop')).metadata?.annotations?.['paved.dev/rollout-action']).toBeUndefined();
  });

  it('a latency regression rolls back; the comparison catches what the absolute threshold misses', async () => {
    // An always-slow service: stable p99 ~0.4 s. The absolute gate (2.5 s) lets a 2x canary through; the ratio does not.
    const env = await fx.setup('rollout-latency', [
      { name: 'latency-p99', query: P99_QUERY, max: 2.5 },
      { name: 'latency-vs-stable', query: P99_QUERY, comparison: { maxRatio: 1.5, tolerance: 0.01 } },
    ]);
    env.emitter.setLatency('stable', 0.4);
    env.emitter.setLatency('canary', 0.9);
    await release(env, 'ghcr.io/acme/shop:2.0.0');
    const r = await eventually(async () => {
      const s = await env.k.rollout('shop');
      expect(s.phase).toBe('RolledBack');
      return s;
    }, SLOW);
    expect(r.failure?.metric).toBe('latency-vs-stable');
    expect(r.failure?.value).toBeGreaterThan((r.failure?.stableValue ?? 0) * 1.5);
    const absolute = r.history.at(-1)!.metrics.find((m) => m.name === 'latency-p99')!;
    expect(absolute.failed).toBe(0);
    expect(absolute.successful).toBeGreaterThan(0);
  });

  it('a controller killed during step 2 resumes at step 2, without moving traffic backwards', async () => {
    const env = await fx.setup('rollout-restart', [{ name: 'error-rate', query: ERROR_RATE_QUERY, max: 0.05, count: 3 }]);
    await release(env, 'ghcr.io/acme/shop:2.0.0');
    await eventually(async () => {
      const s = await env.k.rollout('shop');
      expect(s.stepIndex).toBeGreaterThanOrEqual(2);
    }, SLOW);
    await env.stack.stop();
    const at = await env.k.rollout('shop');
    expect(at.stepIndex).toBeGreaterThanOrEqual(2);
    const finished = at.history.length;
    const stack = await startStack(env.ns, prometheusProvider(fx.prom().url));
    fx.cleanups.push(() => stack.stop());
    await eventually(async () => expect((await env.k.rollout('shop')).phase).toBe('Healthy'), SLOW);
    const after = await env.k.rollout('shop');
    // the first analysis (step 1) ran once; nothing restarted from step 0
    expect(after.history.filter((h) => h.stepIndex === 1)).toHaveLength(1);
    expect(after.history.length).toBeGreaterThanOrEqual(finished);
    await eventually(() => expect(env.weights).toEqual([0, 10, 50, 100, 0]), SLOW);
  });

  it('the background analysis (delivery.analysis) rolls back during a pause step', async () => {
    const env = await fx.setup('rollout-background', [{ ...errorGate[0], count: 100 }], {
      steps: [{ setWeight: 20 }, { pause: { duration: '10m' } }, { setWeight: 100 }],
      analysis: { templates: [{ templateName: 'gate' }] },
    });
    await release(env, 'ghcr.io/acme/shop:2.0.0');
    await eventually(async () => {
      const s = await env.k.rollout('shop');
      expect(s).toMatchObject({ stepIndex: 1, weight: 20 });
      expect(s.backgroundRun?.metrics[0]?.successful ?? 0).toBeGreaterThan(0);
    }, SLOW);
    env.emitter.setErrorRate('canary', 0.5);
    const r = await eventually(async () => {
      const s = await env.k.rollout('shop');
      expect(s.phase).toBe('RolledBack');
      return s;
    }, SLOW);
    expect(r.stepIndex).toBe(1);
    expect(r.failure).toMatchObject({ reason: 'AnalysisFailed', metric: 'error-rate', template: 'AnalysisTemplate/gate' });
    expect(r.history.some((h) => h.id.includes('-bg') && h.phase === 'Failed')).toBe(true);
    await eventually(() => expect(env.weights.at(-1)).toBe(0), SLOW);
  });
});
