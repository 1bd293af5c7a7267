/**
 * Reading the world for delivery (pure helpers over cached objects): the revision stamped on a
 * Deployment's pod template, its readiness counts, the canary weight on the live HTTPRoute, the
 * desired pod template and its revision, the traffic mode, and the rollout state in status.
 */
import type { KubernetesObject, V1Deployment, V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';
import {
  REVISION_ANNOTATION,
  normalizeSpec,
  renderDesiredPodTemplate,
  serviceNames,
  type RenderContext,
  type WebService,
} from '../webservice/render/index.js';
import type { DeploymentObservation, RolloutState, TrafficMode } from './types.js';

export { REVISION_ANNOTATION, stampRevision } from '../webservice/render/index.js';

/** The canary Deployment's name. */
export function canaryName(service: string): string {
  return `${service}-canary`;
}

/**
 * Ready pods of `d`'s ReplicaSets whose pod template carries `revision` (ReplicaSets copy the template's
 * annotations). Only ReplicaSets controlled by `d` (owner uid) count.
 */
export function revisionReadyReplicas(d: V1Deployment, replicaSets: readonly V1ReplicaSet[], revision: string | undefined): number {
  if (revision === undefined) return 0;
  const uid = d.metadata?.uid;
  return replicaSets
    .filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.controller && o.uid === uid))
    .filter((rs) => rs.spec?.template?.metadata?.annotations?.[REVISION_ANNOTATION] === revision)
    .reduce((sum, rs) => sum + (rs.status?.readyReplicas ?? 0), 0);
}

/** Readiness counts and revision of a live Deployment; `replicaSets` are its namespace's (any owner). */
export function observeDeployment(d: V1Deployment | undefined, replicaSets: readonly V1ReplicaSet[] = []): DeploymentObservation | undefined {
  if (!d) return undefined;
  const revision = d.spec?.template?.metadata?.annotations?.[REVISION_ANNOTATION];
  return {
    ...(revision ? { revision } : {}),
    replicas: d.spec?.replicas ?? 1,
    statusReplicas: d.status?.replicas ?? 0,
    updatedReplicas: d.status?.updatedReplicas ?? 0,
    readyReplicas: d.status?.readyReplicas ?? 0,
    revisionReadyReplicas: revisionReadyReplicas(d, replicaSets, revision),
    generation: d.metadata?.generation ?? 0,
    observedGeneration: d.status?.observedGeneration ?? 0,
  };
}

interface RouteLike {
  spec?: { rules?: Array<{ backendRefs?: Array<{ name?: string; weight?: number }> }> };
}

/** The canary's share (percent) on a live HTTPRoute: its backendRef weight over the total of the first rule. */
export function routeCanaryWeight(route: KubernetesObject | undefined, service: string): number | undefined {
  const refs = (route as RouteLike | undefined)?.spec?.rules?.[0]?.backendRefs;
  if (!refs) return undefined;
  const names = serviceNames(service);
  const weightOf = (name: string) => refs.filter((r) => r.name === name).reduce((s, r) => s + (r.weight ?? 1), 0);
  const canary = weightOf(names.canary);
  const total = canary + weightOf(names.stable);
  return total === 0 ? 0 : Math.round((100 * canary) / total);
}

/**
 * The pod template the spec asks for now, after every patch (stamped), and its revision: the hash of the
 * final template. Throws InvalidSpecError like the renderer.
 */
export function desiredPodTemplate(ws: WebService, ctx: RenderContext): { template: V1PodTemplateSpec; revision: string } {
  return renderDesiredPodTemplate(ws, ctx);
}

/** Weights on an HTTPRoute when the service is public and Gateway API is present; replica ratio otherwise. */
export function trafficModeOf(ws: WebService, ctx: Pick<RenderContext, 'capabilities'>): TrafficMode {
  return ctx.capabilities.gatewayApi && normalizeSpec(ws.spec).networking.visibility === 'public' ? 'gatewayAPI' : 'replicas';
}

/** The rollout state in `status.rollout`, when it has the expected shape (else: start afresh). */
export function readRolloutState(ws: WebService): RolloutState | undefined {
  const raw = (ws.status as { rollout?: unknown } | undefined)?.rollout as Partial<RolloutState> | undefined;
  if (!raw || typeof raw !== 'object' || typeof raw.phase !== 'string' || typeof raw.stableRevision !== 'string') return undefined;
  return {
    ...raw,
    phase: raw.phase,
    stableRevision: raw.stableRevision,
    stepIndex: typeof raw.stepIndex === 'number' ? raw.stepIndex : 0,
    weight: typeof raw.weight === 'number' ? raw.weight : 0,
    attempt: typeof raw.attempt === 'number' ? raw.attempt : 0,
    history: Array.isArray(raw.history) ? raw.history : [],
  };
}
