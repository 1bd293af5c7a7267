/**
 * A canary rollout while a REAL HorizontalPodAutoscaler scales the stable Deployment: the WebService
 * has `spec.scaling` with a CPU target, so paved renders an HPA; kwok simulates each pod's CPU use from
 * its `kwok.x-k8s.io/usage-cpu` annotation, metrics-server reads it and the controller-manager's HPA
 * controller changes the stable replica count. The traffic emitter follows the HTTPRoute weights and a
 * real Prometheus judges the canary (the error-rate gate of stack.ts).
 *
 * The use is raised by annotating the RUNNING stable pods (kwok reads annotations live): changing
 * `spec.overrides.annotations` would be a new pod template, i.e. a new revision mid-rollout.
 * The canary must follow the stable count at every step: ceil(stable x weight / 100) (src/delivery/scaling.ts).
 */
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { USAGE_ANNOTATIONS } from '../../src/localcluster/exporters.js';
import { eventually } from '../support/eventually.js';
import { sharedClusterHasExporters } from '../support/prometheus.js';
import { SLOW, errorGate, release, rolloutFixture, type Env } from './stack.js';

const fx = rolloutFixture();

/** The HPA reacts within ~10 s (docs/operations.md); scale-down waits 10 s of stabilisation more. */
const HPA = { timeoutMs: 150_000, intervalMs: 1_000 };

/** 100m requested per pod, 50% target: 20m of use keeps the minimum (2), 180m asks for more than the maximum (4). */
const SCALED = {
  scaling: { minReplicas: 2, maxReplicas: 4, targetCPUUtilization: 50 },
  overrides: {
    resources: { requests: { cpu: '100m', memory: '128Mi' } },
    annotations: { [USAGE_ANNOTATIONS.cpu]: '20m', [USAGE_ANNOTATIONS.memory]: '64Mi' },
  },
};

/** 10% -> analysis -> 50% -> wait for a promote (the HPA changes the stable meanwhile) -> analysis -> 100%. */
const STEPS = [
  { setWeight: 10 },
  { analysis: { templates: [{ templateName: 'gate' }] } },
  { setWeight: 50 },
  { pause: {} },
  { analysis: { templates: [{ templateName: 'gate' }] } },
  { setWeight: 100 },
];

async function stablePods(env: Env): Promise<V1Pod[]> {
  const list = await env.k.clients.list<V1Pod & KubernetesObject>('v1', 'Pod', { namespace: env.ns, labelSelector: 'paved.dev/service=shop,paved.dev/track=stable' });
  return list.items.filter((p) => !p.metadata?.deletionTimestamp);
}

/** kubectl annotate --overwrite pods -l track=stable kwok.x-k8s.io/usage-cpu=CPU */
async function setStableCpu(env: Env, cpu: string): Promise<void> {
  for (const p of await stablePods(env)) {
    await env.k.clients.request({
      method: 'PATCH',
      path: `/api/v1/namespaces/${env.ns}/pods/${p.metadata!.name}`,
      body: { metadata: { annotations: { [USAGE_ANNOTATIONS.cpu]: cpu } } },
      contentType: 'application/merge-patch+json',
    });
  }
}

/** The stable and canary replica counts once both Deployments have settled on them. */
async function settled(env: Env, stable: number): Promise<{ stable: number; canary: number }> {
  return eventually(async () => {
    const s = await env.k.deployment('shop');
    const c = await env.k.deployment('shop-canary');
    expect(s?.spec?.replicas).toBe(stable);
    expect(s?.status?.readyReplicas).toBe(stable);
    expect(c?.status?.readyReplicas).toBe(c?.spec?.replicas);
    return { stable: s!.spec!.replicas!, canary: c!.spec!.replicas! };
  }, HPA);
}

const ratio = (stable: number, weight: number) => Math.ceil((stable * weight) / 100);

describe.skipIf(!sharedClusterHasExporters())('a canary rollout while a real HPA scales the stable Deployment', () => {
  it('keeps the canary at ceil(stable x weight / 100) as the HPA scales the stable up and down, and the route goes 0 -> 10 -> 50 -> 100 -> 0', async () => {
    const env = await fx.setup('rollout-hpa', errorGate, { steps: STEPS }, { followRoute: true, spec: SCALED });
    const hpa = await env.k.clients.get<KubernetesObject & { spec?: { scaleTargetRef?: { name?: string } } }>({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      namespace: env.ns,
      name: 'shop',
    });
    expect(hpa?.spec?.scaleTargetRef?.name).toBe('shop'); // the stable Deployment only
    await release(env, 'ghcr.io/acme/shop:2.0.0');

    await eventually(async () => expect(await env.k.rollout('shop')).toMatchObject({ stepIndex: 3, weight: 50, phase: 'Paused' }), SLOW);
    const before = await settled(env, 2);
    expect(before.canary).toBe(ratio(2, 50)); // 1

    // the stable pods' use rises to 180% of their request: the HPA goes to its maximum
    await setStableCpu(env, '180m');
    const up = await settled(env, 4);
    await eventually(async () => expect((await env.k.deployment('shop-canary'))?.spec?.replicas).toBe(ratio(4, 50)), SLOW); // 2
    expect(up.stable).toBe(4);

    // and falls to 10% (the new stable pods came with the template's 20m): back to the minimum
    await setStableCpu(env, '10m');
    await settled(env, 2);
    await eventually(async () => expect((await env.k.deployment('shop-canary'))?.spec?.replicas).toBe(ratio(2, 50)), SLOW); // 1
    expect((await env.k.rollout('shop')).weight).toBe(50);

    await env.k.action('shop', 'promote');
    await eventually(async () => {
      const r = await env.k.rollout('shop');
      expect(r.phase).toBe('Healthy');
      expect(r.history.map((h) => [h.stepIndex, h.phase])).toEqual([[1, 'Successful'], [4, 'Successful']]);
    }, SLOW);
    await eventually(() => expect(env.weights).toEqual([0, 10, 50, 100, 0]), SLOW);
    await eventually(async () => expect((await env.k.deployment('shop-canary'))?.spec?.replicas).toBe(0), SLOW);
    expect((await env.k.deployment('shop'))?.spec?.template.spec?.containers[0]?.image).toBe('ghcr.io/acme/shop:2.0.0');
  });
});
