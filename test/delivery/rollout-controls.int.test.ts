/**
 * End-to-end rollouts (see rollout.int.test.ts): pauses on no data and on Prometheus errors, the progress
 * deadline, spec changes mid-rollout and the manual controls.
 */
import { describe, expect, it } from 'vitest';
import { createTestNamespace } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { startPrometheus } from '../support/prometheus.js';
import { startTrafficEmitter } from '../support/traffic-emitter.js';
import {
  ERROR_RATE_QUERY,
  Kubectl,
  SLOW,
  analysisTemplate,
  errorGate,
  errorRateOf,
  gatedSteps,
  prometheusProvider,
  release,
  rolloutFixture,
  scraped,
  startStack,
  webServiceManifest,
} from './stack.js';

const fx = rolloutFixture();

describe('progressive delivery end to end: pauses, deadline, spec changes, manual controls', () => {
  it('no traffic leaves the rollout paused as inconclusive', async () => {
    const env = await fx.setup('rollout-quiet', errorGate);
    env.emitter.setRequestRate('canary', 0);
    // wait until the canary's rate window holds no traffic any more
    const provider = prometheusProvider(fx.prom().url);
    await eventually(async () => expect(await provider.query(errorRateOf(env.ns, 'canary'))).toEqual({ kind: 'noData' }), SLOW);
    await release(env, 'ghcr.io/acme/shop:2.0.0');
    const r = await eventually(async () => {
      const s = await env.k.rollout('shop');
      expect(s.phase).toBe('Paused');
      return s;
    }, SLOW);
    expect(r).toMatchObject({ pauseReason: 'Inconclusive', weight: 10, stepIndex: 1 });
    expect(r.message).toMatch(/inconclusive/);
    // traffic comes back and someone resumes: it completes
    env.emitter.setRequestRate('canary', 50);
    await env.k.action('shop', 'resume');
    await eventually(async () => expect((await env.k.rollout('shop')).phase).toBe('Healthy'), SLOW);
  });

  it('Prometheus stopped mid-analysis pauses the rollout and nothing crashes', async () => {
    const own = await startPrometheus({ scrapeIntervalSeconds: 1 });
    const ns = await createTestNamespace('rollout-promdown');
    const emitter = await startTrafficEmitter({ namespace: ns, service: 'shop' });
    fx.cleanups.push(() => emitter.stop());
    await own.addTarget('emitter', emitter.hostPort);
    await scraped(own.url, ns);
    const k = new Kubectl(ns);
    await k.create(analysisTemplate('gate', [{ name: 'error-rate', query: ERROR_RATE_QUERY, max: 0.05, count: 30 }]));
    const stack = await startStack(ns, prometheusProvider(own.url));
    fx.cleanups.push(() => stack.stop());
    await k.create(webServiceManifest('shop', 'ghcr.io/acme/shop:1.0.0', { steps: gatedSteps(), scaleDownDelaySeconds: 0 }));
    await eventually(async () => expect((await k.rollout('shop')).phase).toBe('Healthy'), SLOW);
    await k.patchWebService('shop', { spec: { image: 'ghcr.io/acme/shop:2.0.0' } });
    await eventually(async () => {
      const s = await k.rollout('shop');
      expect(s.currentRun?.metrics[0]?.successful ?? 0).toBeGreaterThan(0);
    }, SLOW);
    await own.stop();
    const r = await eventually(async () => {
      const s = await k.rollout('shop');
      expect(s.phase).toBe('Paused');
      return s;
    }, SLOW);
    expect(r).toMatchObject({ pauseReason: 'AnalysisError', weight: 10 });
    expect(r.message).toMatch(/consecutive query errors/);
    // still alive and obeying: abort works
    await k.action('shop', 'abort');
    await eventually(async () => expect((await k.rollout('shop')).phase).toBe('RolledBack'), SLOW);
  });

  it('a canary that never becomes Ready fails at the progress deadline', async () => {
    const env = await fx.setup('rollout-deadline', errorGate, { progressDeadlineSeconds: 30 });
    // kwok runs no containers, so a crash loop is played by a quota that leaves no room for canary pods.
    await env.k.create({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'no-more-pods' }, spec: { hard: { pods: '2' } } } as never);
    await release(env, 'ghcr.io/acme/shop:2.0.0');
    const r = await eventually(async () => {
      const s = await env.k.rollout('shop');
      expect(s.phase).toBe('RolledBack');
      return s;
    }, SLOW);
    expect(r.failure?.reason).toBe('ProgressDeadlineExceeded');
    expect(r.message).toMatch(/not Ready within 30s/);
    expect(env.weights).toEqual([0]);
  });

  it('a spec change mid-rollout restarts with the newest revision', async () => {
    const env = await fx.setup('rollout-respec', [{ name: 'error-rate', query: ERROR_RATE_QUERY, max: 0.05, count: 4 }]);
    await release(env, 'ghcr.io/acme/shop:2.0.0');
    await eventually(async () => expect((await env.k.rollout('shop')).weight).toBe(50), SLOW);
    const r2 = (await env.k.rollout('shop')).canaryRevision;
    await release(env, 'ghcr.io/acme/shop:3.0.0');
    await eventually(async () => {
      const s = await env.k.rollout('shop');
      expect(s.canaryRevision).not.toBe(r2);
    }, SLOW);
    await eventually(async () => expect((await env.k.rollout('shop')).phase).toBe('Healthy'), SLOW);
    expect((await env.k.deployment('shop'))?.spec?.template.spec?.containers[0]?.image).toBe('ghcr.io/acme/shop:3.0.0');
    await eventually(() => expect(env.weights).toEqual([0, 10, 50, 0, 10, 50, 100, 0]), SLOW);
  });

  it('pause, resume, promote, promote --full and abort work through the annotation', async () => {
    const env = await fx.setup('rollout-manual', [{ name: 'error-rate', query: ERROR_RATE_QUERY, max: 0.05, count: 100 }]);
    await release(env, 'ghcr.io/acme/shop:2.0.0');
    await eventually(async () => expect((await env.k.rollout('shop')).currentRun).toBeDefined(), SLOW);
    await env.k.action('shop', 'pause');
    await eventually(async () => expect((await env.k.rollout('shop'))).toMatchObject({ phase: 'Paused', pauseReason: 'Manual' }), SLOW);
    await env.k.action('shop', 'resume');
    await eventually(async () => expect((await env.k.rollout('shop')).phase).toBe('Progressing'), SLOW);
    await env.k.action('shop', 'promote'); // skips the 100-measurement gate at 10%
    await eventually(async () => expect((await env.k.rollout('shop')).weight).toBe(50), SLOW);
    await env.k.action('shop', 'abort');
    await eventually(async () => expect((await env.k.rollout('shop'))).toMatchObject({ phase: 'RolledBack', failure: { reason: 'Aborted' } }), SLOW);
    await env.k.action('shop', 'retry');
    await eventually(async () => expect((await env.k.rollout('shop')).weight).toBe(10), SLOW);
    await env.k.action('shop', 'promote --full');
    await eventually(async () => expect((await env.k.rollout('shop')).phase).toBe('Healthy'), SLOW);
    expect((await env.k.deployment('shop'))?.spec?.template.spec?.containers[0]?.image).toBe('ghcr.io/acme/shop:2.0.0');
  });
});
