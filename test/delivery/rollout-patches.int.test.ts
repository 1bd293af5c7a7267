/**
 * A change made only through `spec.advanced.patches` on the pod template (issue 18 item 2): the revision
 * is the hash of the final template, so the patch is a new revision and rolls out as a canary with
 * analysis like an image change; a failing analysis rolls it back, and the stable Deployment never runs
 * the patched template. Real API server, real Prometheus, the traffic emitter plays the pods.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { SLOW, errorGate, rolloutFixture } from './stack.js';

const fx = rolloutFixture();

/** The escape hatch: one env var on the app container of the stable Deployment's template. */
function flagPatch(value: string): Record<string, unknown> {
  return {
    patches: [
      { target: { kind: 'Deployment', name: 'shop' }, mergePatch: { spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'FLAG', value }] }] } } } } },
    ],
  };
}

function flagOf(d: V1Deployment | undefined): string | undefined {
  return d?.spec?.template.spec?.containers.find((c) => c.name === 'app')?.env?.find((e) => e.name === 'FLAG')?.value;
}

describe('a change only through advanced.patches is a rollout', () => {
  it('goes to the canary first, through analysis, and is promoted', async () => {
    const env = await fx.setup('patch-rollout', errorGate, {}, { spec: { advanced: flagPatch('a') } });
    expect(flagOf(await env.k.deployment('shop'))).toBe('a');
    const before = (await env.k.rollout('shop')).stableRevision;
    await env.k.patchWebService('shop', { spec: { advanced: flagPatch('b') } });
    // While the canary runs the patched template, the stable keeps the old one.
    await eventually(async () => {
      const r = await env.k.rollout('shop');
      expect(r.phase).toBe('Progressing');
      expect(r.canaryRevision).not.toBe(before);
      expect(flagOf(await env.k.deployment('shop-canary'))).toBe('b');
      expect(flagOf(await env.k.deployment('shop'))).toBe('a');
    }, SLOW);
    const done = await eventually(async () => {
      const r = await env.k.rollout('shop');
      expect(r.phase).toBe('Healthy');
      expect(r.stableRevision).not.toBe(before);
      return r;
    }, SLOW);
    expect(done.history.map((h) => [h.stepIndex, h.phase])).toEqual([[1, 'Successful'], [3, 'Successful']]);
    await eventually(() => Promise.resolve(expect(env.weights).toEqual([0, 10, 50, 100, 0])), SLOW);
    expect(flagOf(await env.k.deployment('shop'))).toBe('b');
    expect((await env.k.webService('shop')).status?.revision).toBe(done.stableRevision);
  });

  it('is rolled back when its analysis fails, and the stable never runs it', async () => {
    const env = await fx.setup('patch-rollback', [{ ...errorGate[0], count: 6 }], {}, { spec: { advanced: flagPatch('a') } });
    await env.k.patchWebService('shop', { spec: { advanced: flagPatch('bad') } });
    await eventually(async () => expect((await env.k.rollout('shop')).weight).toBe(50), SLOW);
    expect(flagOf(await env.k.deployment('shop-canary'))).toBe('bad');
    env.emitter.setErrorRate('canary', 0.5);
    const r = await eventually(async () => {
      const s = await env.k.rollout('shop');
      expect(s.phase).toBe('RolledBack');
      return s;
    }, SLOW);
    expect(r.failure).toMatchObject({ reason: 'AnalysisFailed', metric: 'error-rate' });
    await eventually(async () => {
      expect(env.weights.at(-1)).toBe(0);
      expect((await env.k.deployment('shop-canary'))?.spec?.replicas).toBe(0);
    }, SLOW);
    expect(flagOf(await env.k.deployment('shop'))).toBe('a');
  });
});
