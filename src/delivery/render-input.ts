/**
 * The rollout's part of a render (pure): `renderInputFor` turns a rollout state (the one the planner
 * just decided, in the WebService reconcile) and the live Deployments into the renderer's
 * RolloutRenderInput: the template the stable Deployment keeps (or takes, when promoting), the canary
 * Deployment's template and replicas, and the HTTPRoute weights. The writes are exactly `desiredWrites`
 * of the planner, so the renderer and the planner never disagree. `rolloutRenderInput` does the same
 * from the state recorded in `status.rollout` (previews, tests).
 *
 * Before any rollout state exists, a live stable Deployment keeps its template: a spec change is never
 * applied to the stable track directly, only through a rollout.
 */
import type { KubernetesObject, V1Deployment, V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';
import type { RenderContext, RolloutRenderInput, WebService } from '../webservice/render/index.js';
import { desiredWrites } from './plan.js';
import { normalizeDelivery } from './spec.js';
import type { DeliverySpec, Observations, RolloutState } from './types.js';
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

/** The live templates a render input may keep, and the desired one. */
interface Templates {
  desired: V1PodTemplateSpec;
  liveStable?: V1PodTemplateSpec | undefined;
  liveCanary?: V1PodTemplateSpec | undefined;
}

/** The render input of a decided rollout state (see the module header). */
export function renderInputFor(state: RolloutState, obs: Observations, spec: DeliverySpec, t: Templates): RolloutRenderInput {
  const out: RolloutRenderInput = {};
  for (const action of desiredWrites(state, obs, spec)) {
    if (action.type === 'setWeight') {
      out.weights = { stable: 100 - action.weight, canary: action.weight };
    } else if (action.type === 'applyStable') {
      const template = action.template === 'desired' ? t.desired : action.template === 'canary' ? t.liveCanary : t.liveStable;
      out.stableTemplate = template ?? t.desired;
    } else {
      const template = action.template === 'desired' ? t.desired : (t.liveCanary ?? t.desired);
      out.canary = { template, replicas: action.replicas };
    }
  }
  return out;
}

/** No rollout state yet: keep a live stable (and canary) as it is, deploy a new service directly. */
function inputWithoutState(liveStable: V1Deployment | undefined, liveCanary: V1Deployment | undefined, desired: V1PodTemplateSpec): RolloutRenderInput {
  if (liveStable?.spec?.template && liveStable.spec.template.metadata?.annotations?.['paved.dev/revision']) {
    return {
      stableTemplate: liveStable.spec.template,
      ...(liveCanary?.spec?.template ? { canary: { template: liveCanary.spec.template, replicas: liveCanary.spec.replicas ?? 0 } } : {}),
    };
  }
  return { stableTemplate: desired };
}

/** The service's delivery spec; the defaults when it is invalid (the renderer reports that itself). */
function deliveryOrDefaults(ws: WebService): DeliverySpec {
  try {
    return normalizeDelivery(ws.spec.delivery);
  } catch {
    return normalizeDelivery(undefined);
  }
}

/** The render input for a WebService from its recorded rollout state (see the module header). */
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
  if (!state) return inputWithoutState(liveStable, liveCanary, desired.template);
  const spec = deliveryOrDefaults(ws);
  const obs = observeFromCaches(ws, ctx, caches, desired.revision);
  return renderInputFor(state, obs, spec, { desired: desired.template, liveStable: liveStable?.spec?.template, liveCanary: liveCanary?.spec?.template });
}
