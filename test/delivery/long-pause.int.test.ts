/**
 * A very long pause ("600h", above what a Node timer can hold) on the real API server: the controller
 * waits like it does for a short pause, instead of requeueing in a tight loop (setTimeout past
 * 2^31-1 ms fires after 1 ms). Counted with paved_reconcile_total of the WebService controller, which
 * plans rollouts in its reconcile.
 */
import { describe, expect, it } from 'vitest';
import { kubeMetrics } from '../../src/kube/metrics.js';
import { createTestNamespace } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { Kubectl, SLOW, prometheusProvider, startStack, webServiceManifest } from './stack.js';

async function webServiceReconciles(): Promise<number> {
  const { values } = await kubeMetrics.reconcileTotal.get();
  return values.filter((v) => v.labels.controller === 'webservice').reduce((sum, v) => sum + v.value, 0);
}

/** Reconciles of the WebService controller while a rollout sits in its pause step for `observeMs`. */
async function reconcilesDuringPause(duration: string, observeMs: number): Promise<{ count: number; message: string }> {
  const ns = await createTestNamespace(`pause-${duration}`);
  const k = new Kubectl(ns);
  // No analysis step: the provider is never asked.
  const stack = await startStack(ns, prometheusProvider('http://127.0.0.1:9'));
  try {
    await k.create(webServiceManifest('shop', 'ghcr.io/acme/shop:1.0.0', { steps: [{ setWeight: 10 }, { pause: { duration } }, { setWeight: 100 }], scaleDownDelaySeconds: 0 }));
    await eventually(async () => expect((await k.rollout('shop')).phase).toBe('Healthy'), SLOW);
    await k.patchWebService('shop', { spec: { image: 'ghcr.io/acme/shop:2.0.0' } });
    const paused = await eventually(async () => {
      const r = await k.rollout('shop');
      expect(r).toMatchObject({ phase: 'Progressing', stepIndex: 1, weight: 10 });
      expect(r.message).toContain('pausing for');
      return r;
    }, SLOW);
    const before = await webServiceReconciles();
    await new Promise((r) => setTimeout(r, observeMs));
    const count = (await webServiceReconciles()) - before;
    expect((await k.rollout('shop')).stepIndex).toBe(1);
    return { count, message: paused.message ?? '' };
  } finally {
    await stack.stop();
  }
}

describe('a very long pause', () => {
  it('"600h" makes no more reconciles than "10m" while the rollout waits', async () => {
    const short = await reconcilesDuringPause('10m', 3_000);
    const long = await reconcilesDuringPause('600h', 3_000);
    expect(long.message).toMatch(/pausing for 21[56]\d{4}s more/);
    // Before the cap the 600h pause requeued every millisecond: thousands in 3 s. Both counts also hold
    // the reconciles that watch events bring (pods, ReplicaSets), which vary from run to run.
    expect(long.count).toBeLessThanOrEqual(short.count + 10);
  });
});
