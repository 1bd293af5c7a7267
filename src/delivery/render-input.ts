/**
 * The delivery seam of the WebService renderer: `rolloutRenderInput` turns the rollout state in
 * `status.rollout` (written by the delivery controller) and the live Deployments and HTTPRoute into
 * the renderer's RolloutRenderInput: the template the stable Deployment keeps (or takes, when
 * promoting), the canary Deployment's template and replicas, and the HTTPRoute weights. It is pure and
 * synchronous (caches only), so the WebService reconciler calls it before every render. The writes
 * are exactly `desiredWrites` of the planner, so the renderer and the planner never disagree.
 *
 * Before the delivery controller has written any state, a live stable Deployment keeps its template:
 * a spec change is never applied to the stable track directly, only through a rollout.
 */
import type { KubernetesObject, V1Deployment, V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';
import type { RenderContext, RolloutRenderInput, WebService } from '../webservice/render/index.js';
import { desiredWrites } from './plan.js';
import { normalizeDelivery } from './spec.js';
import type { Observations } from './types.js';
import {
  canaryName,
  desiredPodTemplate,
  observeDeployment,
  readRolloutState,
  routeCanaryWeight,
  trafficModeOf,
} from './observe.js';

/** Cached reads the seam needs. */
export interface DeliveryCaches {
  deployment(namespace: string, name: string): V1Deployment | undefined;
  /** The service's ReplicaSets (label paved.dev/service), to count Ready pods per revision. */
  replicaSets(namespace: string, service: string): readonly V1ReplicaSet[];
  /** The service's HTTPRoute (`<name>`), when Gateway API is present. */
  route(namespace: string, name: string): KubernetesObject | undefined;
}

/** The observations both the seam and the controller build from caches (no analysis, no measurements). */
export function observeFromCaches(ws: WebService, ctx: RenderContext, caches: DeliveryCaches, desiredRevision: string): Observations {
  const namespace = ws.metadata?.namespace ?? '';
  const service = ws.metadata?.name ?? '';
  const replicaSets = caches.replicaSets(namespace, service);
  const stable = observeDeployment(caches.deployment(namespace, service), replicaSets);
  const canary = observeDeployment(caches.deployment(namespace, canaryName(service)), replicaSets);
  const mode = trafficModeOf(ws, ctx);
  const routeWeight = mode === 'gatewayAPI' ? routeCanaryWeight(caches.route(namespace, service), service) : undefined;
  const action = ws.metadata?.annotations?.['paved.dev/rollout-action'];
  return {
    namespace,
    service,
    desiredRevision,
    ...(stable ? { stable } : {}),
    ...(canary ? { canary } : {}),
    trafficMode: mode,
    ...(routeWeight !== undefined ? { routeWeight } : {}),
    ...(action !== undefined ? { action } : {}),
  };
}

/** The render input for a WebService (see the module header). */
export function rolloutRenderInput(ws: WebService, ctx: RenderContext, caches: DeliveryCaches): RolloutRenderInput | undefined {
  const namespace = ws.metadata?.namespace ?? '';
  const service = ws.metadata?.name ?? '';
  const liveStable = caches.deployment(namespace, service);
  const liveCanary = caches.deployment(namespace, canaryName(service));
  let desired: { template: V1PodTemplateSpec; revision: string };
  try {
    desired = desiredPodTemplate(ws, ctx);
  } catch {
    return undefined; // the renderer reports the invalid spec itself
  }
  const state = readRolloutState(ws);
  if (!state) {
    // No rollout state yet: keep a live stable as it is, deploy a new service directly.
    if (liveStable?.spec?.template && liveStable.spec.template.metadata?.annotations?.['paved.dev/revision']) {
      return {
        stableTemplate: liveStable.spec.template,
        ...(liveCanary?.spec?.template ? { canary: { template: liveCanary.spec.template, replicas: liveCanary.spec.replicas ?? 0 } } : {}),
      };
    }
    return { stableTemplate: desired.template };
  }
  let spec;
  try {
    spec = normalizeDelivery(ws.spec.delivery);
  } catch {
    spec = normalizeDelivery(undefined);
  }
  const obs = observeFromCaches(ws, ctx, caches, desired.revision);
  const out: RolloutRenderInput = {};
  for (const action of desiredWrites(state, obs, spec)) {
    if (action.type === 'setWeight') {
      out.weights = { stable: 100 - action.weight, canary: action.weight };
    } else if (action.type === 'applyStable') {
      const template =
        action.template === 'desired'
          ? desired.template
          : action.template === 'canary'
            ? liveCanary?.spec?.template
            : liveStable?.spec?.template;
      out.stableTemplate = template ?? desired.template;
    } else {
      const template = action.template === 'desired' ? desired.template : (liveCanary?.spec?.template ?? desired.template);
      out.canary = { template, replicas: action.replicas };
    }
  }
  return out;
}
