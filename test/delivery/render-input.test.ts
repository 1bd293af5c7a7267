import type { KubernetesObject, V1Deployment, V1PodTemplateSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { REVISION_ANNOTATION, desiredPodTemplate, routeCanaryWeight } from '../../src/delivery/observe.js';
import { rolloutRenderInput, type DeliveryCaches } from '../../src/delivery/render-input.js';
import type { RolloutState } from '../../src/delivery/types.js';
import { renderWebService, type WebService } from '../../src/webservice/render/index.js';
import { FULL, contextFor, webService } from '../webservice/fixtures.js';

const ctx = contextFor(FULL);
const base = webService('shop', 'team-a', { image: 'ghcr.io/acme/shop:1.0.0', networking: { visibility: 'public', host: 'shop.example.com' } });
const next: WebService = { ...base, spec: { ...base.spec, image: 'ghcr.io/acme/shop:2.0.0' } };
const r1 = desiredPodTemplate(base, ctx);
const r2 = desiredPodTemplate(next, ctx);

function deployment(name: string, template: V1PodTemplateSpec, replicas: number): V1Deployment {
  return {
    metadata: { name, namespace: 'team-a', generation: 1 },
    spec: { replicas, selector: {}, template },
    status: { observedGeneration: 1, replicas, readyReplicas: replicas, updatedReplicas: replicas },
  };
}

function caches(stable?: V1Deployment, canary?: V1Deployment, canaryWeight?: number): DeliveryCaches {
  const route =
    canaryWeight === undefined
      ? undefined
      : ({ spec: { rules: [{ backendRefs: [{ name: 'shop-stable', weight: 100 - canaryWeight }, { name: 'shop-canary', weight: canaryWeight }] }] } } as KubernetesObject);
  return {
    deployment: (_ns, name) => (name === 'shop' ? stable : name === 'shop-canary' ? canary : undefined),
    route: () => route,
    replicaSets: () => [],
  };
}

function withState(ws: WebService, rollout: Partial<RolloutState>): WebService {
  return { ...ws, status: { rollout: { stepIndex: 0, weight: 0, attempt: 0, history: [], ...rollout } } };
}

describe('the delivery seam (rolloutRenderInput)', () => {
  it('stamps the revision on the templates it hands out; the revision is the renderer\'s', () => {
    expect(r1.template.metadata?.annotations?.[REVISION_ANNOTATION]).toBe(r1.revision);
    expect(r1.revision).toBe(renderWebService(base, ctx).revision);
    expect(r2.revision).not.toBe(r1.revision);
  });

  it('deploys a new service directly', () => {
    expect(rolloutRenderInput(base, ctx, caches())).toEqual({ stableTemplate: r1.template });
  });

  it('never applies a spec change to a live stable directly, even before any rollout state exists', () => {
    const input = rolloutRenderInput(next, ctx, caches(deployment('shop', r1.template, 4)));
    expect(input?.stableTemplate).toEqual(r1.template);
    expect(input?.canary).toBeUndefined();
  });

  it('keeps the stable template while a canary runs at its weight', () => {
    const ws = withState(next, { phase: 'Progressing', stableRevision: r1.revision, canaryRevision: r2.revision, stepIndex: 2, weight: 10 });
    const input = rolloutRenderInput(ws, ctx, caches(deployment('shop', r1.template, 4), deployment('shop-canary', r2.template, 1), 10))!;
    expect(input.stableTemplate).toEqual(r1.template);
    expect(input.canary).toEqual({ template: r2.template, replicas: 2 }); // step 2 is setWeight 50: pods first
    expect(input.weights).toEqual({ stable: 90, canary: 10 });
    const objects = renderWebService(ws, { ...ctx, rollout: input }).objects;
    const route = objects.find((o) => o.kind === 'HTTPRoute') as KubernetesObject;
    expect(routeCanaryWeight(route, 'shop')).toBe(10);
    const canary = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'shop-canary') as V1Deployment;
    expect(canary.spec?.template.metadata?.labels?.['paved.dev/track']).toBe('canary');
    expect(canary.spec?.replicas).toBe(2);
  });

  it('gives the stable the new template when promoting, traffic still on the canary', () => {
    const ws = withState(next, { phase: 'Promoting', stableRevision: r1.revision, canaryRevision: r2.revision, stepIndex: 5, weight: 100 });
    const input = rolloutRenderInput(ws, ctx, caches(deployment('shop', r1.template, 4), deployment('shop-canary', r2.template, 4), 100))!;
    expect(input.stableTemplate).toEqual(r2.template);
    expect(input.weights).toEqual({ stable: 0, canary: 100 });
    expect(input.canary?.replicas).toBe(4);
  });

  it('after a rollback, keeps the canary pods until the route has left them', () => {
    const ws = withState(next, { phase: 'RolledBack', stableRevision: r1.revision, canaryRevision: r2.revision, failedRevision: r2.revision, weight: 0 });
    const live = [deployment('shop', r1.template, 4), deployment('shop-canary', r2.template, 2)] as const;
    expect(rolloutRenderInput(ws, ctx, caches(...live, 50))).toMatchObject({ weights: { stable: 100, canary: 0 }, canary: { replicas: 2 } });
    expect(rolloutRenderInput(ws, ctx, caches(...live, 0))).toMatchObject({ weights: { stable: 100, canary: 0 }, canary: { replicas: 0 } });
    expect(rolloutRenderInput(ws, ctx, caches(...live, 0))?.stableTemplate).toEqual(r1.template);
  });
});
