/**
 * The WebService renderer: `(WebService, capabilities, platform config) -> ordered objects`, pure and
 * deterministic (no clock, no randomness, no I/O; the same input always gives the same output, in the
 * same order). Three tiers feed it: managed (the spec's defaults), configured (`spec.overrides`),
 * advanced (`spec.advanced`: patches on the rendered objects, then extra manifests). Policy is not
 * applied here: `evaluatePolicies` checks the result (see ../policy), so preview and reconcile share it.
 *
 * Order: ServiceAccount, ConfigMap, Deployment(s), Services, HPA, PDB, NetworkPolicy, HTTPRoute or
 * Ingress, ServiceMonitor, the Grafana dashboard ConfigMap (metrics on), extra manifests. Dependencies first, so an apply in order never references
 * something missing.
 */
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { InvalidSpecError } from '../../errors.js';
import { renderAutoscaler } from './autoscaling.js';
import { renderConfigMap } from './config-map.js';
import { renderServiceDashboard } from './dashboard.js';
import type { RenderContext } from './context.js';
import {
  hasAutoscaler,
  podTemplateRevision,
  renderDeployment,
  renderPodTemplateFor,
  stampRevision,
} from './deployment.js';
import { renderDisruptionBudget } from './disruption-budget.js';
import { commonLabels, ownerReferences, type Identity, type Track } from './labels.js';
import { renderNetworkPolicy } from './network-policy.js';
import { applyPatches } from './patches.js';
import { STEADY_WEIGHTS, renderHttpRoute, renderIngress } from './route.js';
import { renderServiceAccount } from './service-account.js';
import { renderServiceMonitor } from './service-monitor.js';
import { renderServices } from './service.js';
import { normalizeSpec, tierOf, type GoldenPathTier, type NormalizedSpec, type WebService } from './spec.js';
import { podLocations, type RenderedObject } from './workloads.js';

export type { RenderedObject } from './workloads.js';
export type { AppliedRequests, Capabilities, PlatformConfig, RenderContext, RolloutRenderInput, ServiceRef } from './context.js';
export { DEFAULT_PLATFORM, platformFromConfig, parsePolicyModes } from './context.js';
export { podTemplateRevision, REVISION_ANNOTATION, stampRevision } from './deployment.js';
export { referencedConfigMaps } from './config-map.js';
export { serviceNames } from './service.js';
export { SIZE_TIERS } from './resources.js';
export { normalizeSpec, tierOf, type GoldenPathTier, type WebService, type WebServiceSpec } from './spec.js';

/** What a render produces. */
export interface RenderResult {
  /** The objects, in apply order. */
  objects: RenderedObject[];
  /** The golden-path tier the spec uses. */
  tier: GoldenPathTier;
  /**
   * Revision of the current spec's final pod template (after `spec.advanced.patches`): what the stable
   * track runs once promoted.
   */
  revision: string;
  /** The public URL, for public services. */
  url?: string;
}

/** The name, namespace and team of a WebService; InvalidSpecError when it has no name or namespace. */
export function identityOf(ws: WebService, ctx: Pick<RenderContext, 'team'>): Identity {
  const name = ws.metadata?.name;
  const namespace = ws.metadata?.namespace;
  if (!name) throw new InvalidSpecError('metadata.name', 'is required');
  if (!namespace) throw new InvalidSpecError('metadata.namespace', 'is required');
  const team = ctx.team ?? ws.metadata?.labels?.['paved.dev/team'] ?? namespace;
  return { name, namespace, team };
}

/**
 * The pod template the current spec gives a track, before patches (the managed and configured tiers).
 * The rollout's templates come from `renderDesiredPodTemplate`, which includes the patches.
 */
export function renderPodTemplate(ws: WebService, ctx: RenderContext, track: Track): V1PodTemplateSpec {
  return renderPodTemplateFor(identityOf(ws, ctx), normalizeSpec(ws.spec), ctx, track);
}

function asObject(o: object): RenderedObject {
  return o as unknown as RenderedObject;
}

function withTrack(template: V1PodTemplateSpec, track: Track): V1PodTemplateSpec {
  const labels = { ...(template.metadata?.labels ?? {}), 'paved.dev/track': track };
  return { ...template, metadata: { ...template.metadata, labels } };
}

/**
 * The Deployments, with the spec's own template (`current`) on both tracks: patches then apply to what
 * the spec says, and `renderWebService` puts the rollout's final templates in afterwards.
 */
function renderWorkloads(ws: WebService, id: Identity, spec: NormalizedSpec, ctx: RenderContext): RenderedObject[] {
  const current = renderPodTemplateFor(id, spec, ctx, 'stable');
  const replicas = hasAutoscaler(spec) ? undefined : spec.scaling.minReplicas;
  const out = [asObject(renderDeployment(ws, id, spec, 'stable', current, replicas))];
  const canary = ctx.rollout?.canary;
  if (canary) {
    out.push(asObject(renderDeployment(ws, id, spec, 'canary', withTrack(current, 'canary'), canary.replicas)));
  }
  return out;
}

function renderBase(ws: WebService, id: Identity, spec: NormalizedSpec, ctx: RenderContext): RenderedObject[] {
  const objects: Array<object | undefined> = [
    renderServiceAccount(ws, id, spec),
    renderConfigMap(ws, id, spec),
    ...renderWorkloads(ws, id, spec, ctx),
    ...renderServices(ws, id, spec),
    hasAutoscaler(spec) ? renderAutoscaler(ws, id, spec) : undefined,
    renderDisruptionBudget(ws, id),
    renderNetworkPolicy(ws, id, spec, ctx),
  ];
  if (spec.networking.visibility === 'public') {
    objects.push(
      ctx.capabilities.gatewayApi
        ? renderHttpRoute(ws, id, spec, ctx, ctx.rollout?.weights ?? STEADY_WEIGHTS)
        : renderIngress(ws, id, spec, ctx),
    );
  }
  if (ctx.capabilities.prometheusOperator) objects.push(renderServiceMonitor(ws, id, spec));
  objects.push(renderServiceDashboard(ws, id, spec));
  return objects.filter((o): o is object => o !== undefined).map(asObject);
}

/**
 * An extra manifest, made part of the service: namespace filled in when absent (a different namespace is
 * left for policy to refuse), attribution labels forced on it and on its pod templates, owned by the
 * WebService.
 */
function adoptExtraManifest(raw: Record<string, unknown>, ws: WebService, id: Identity): RenderedObject {
  const obj = JSON.parse(JSON.stringify(raw)) as RenderedObject;
  const labels = commonLabels(id);
  const owners = ownerReferences(ws);
  obj.metadata = {
    ...obj.metadata,
    namespace: obj.metadata?.namespace ?? id.namespace,
    labels: { ...(obj.metadata?.labels ?? {}), ...labels },
    ...(owners ? { ownerReferences: owners as unknown as Array<Record<string, unknown>> } : {}),
  };
  for (const pod of podLocations(obj)) {
    if (pod.metadata) pod.metadata['labels'] = { ...((pod.metadata['labels']) ?? {}), ...labels };
    else setPath(obj, pod.metadataPath, { labels });
  }
  if (obj.kind === 'CronJob') {
    // Jobs made by the CronJob take these labels: keep them attributable too.
    const jobMeta = (getPath(obj, 'spec.jobTemplate.metadata') ?? {}) as Record<string, unknown>;
    setPath(obj, 'spec.jobTemplate.metadata', { ...jobMeta, labels: { ...((jobMeta['labels'] as object) ?? {}), ...labels } });
  }
  return obj;
}

function getPath(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, k) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[k] : undefined), obj);
}

function setPath(obj: object, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = obj as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) {
    if (!node[k] || typeof node[k] !== 'object') node[k] = {};
    node = node[k] as Record<string, unknown>;
  }
  node[keys[keys.length - 1] ?? ''] = value;
}

/** The public URL of a public service. */
function urlOf(spec: NormalizedSpec): string | undefined {
  if (spec.networking.visibility !== 'public' || !spec.networking.host) return undefined;
  return `${spec.networking.tls.enabled ? 'https' : 'http'}://${spec.networking.host}${spec.networking.paths[0] ?? '/'}`;
}

/** The base objects with the escape hatch's patches applied (Deployments carry the spec's own template). */
function renderPatched(ws: WebService, id: Identity, spec: NormalizedSpec, ctx: RenderContext): RenderedObject[] {
  const objects = renderBase(ws, id, spec, ctx);
  const patches = spec.advanced?.patches ?? [];
  return patches.length ? applyPatches(objects, patches) : objects;
}

interface DeploymentShape {
  kind: string;
  metadata: { name: string };
  spec?: { template?: V1PodTemplateSpec };
}

function deploymentNamed(objects: readonly RenderedObject[], name: string): DeploymentShape | undefined {
  return (objects as unknown as DeploymentShape[]).find((o) => o.kind === 'Deployment' && o.metadata.name === name);
}

/** The final template of the stable Deployment among patched objects, stamped with its revision. */
function desiredFrom(objects: readonly RenderedObject[], id: Identity, fallback: () => V1PodTemplateSpec): { template: V1PodTemplateSpec; revision: string } {
  const template = deploymentNamed(objects, id.name)?.spec?.template ?? fallback();
  const revision = podTemplateRevision(template);
  return { template: stampRevision(template, revision), revision };
}

/**
 * The pod template the spec asks for now: the stable Deployment's after every patch (everything that
 * reaches the Deployment), stamped with its revision, the hash of that final template. A change made
 * only through `spec.advanced.patches` is a new revision, so it rolls out as a canary like any other.
 * Throws InvalidSpecError like `renderWebService`.
 */
export function renderDesiredPodTemplate(ws: WebService, ctx: RenderContext): { template: V1PodTemplateSpec; revision: string } {
  const id = identityOf(ws, ctx);
  const spec = normalizeSpec(ws.spec);
  const { rollout: _ignored, ...withoutRollout } = ctx;
  return desiredFrom(renderPatched(ws, id, spec, withoutRollout), id, () => renderPodTemplateFor(id, spec, ctx, 'stable'));
}

/** Puts a track's final template into its Deployment (a copy of the object). */
function withTemplate(objects: RenderedObject[], name: string, template: V1PodTemplateSpec): RenderedObject[] {
  return objects.map((o) => {
    const d = o as unknown as DeploymentShape;
    if (d.kind !== 'Deployment' || d.metadata.name !== name) return o;
    return { ...o, spec: { ...(o['spec'] as object), template } };
  });
}

/**
 * Renders a WebService (pure). Throws InvalidSpecError when the spec cannot be rendered (no name or
 * namespace, a patch that does not apply); never for a spec the CRD schema accepts without patches.
 *
 * Patches apply to the objects rendered from the spec; then each Deployment gets its track's final
 * template when a rollout drives it (`ctx.rollout`, already final: it came from `renderDesiredPodTemplate`
 * or from the live Deployment). So a template is never patched twice.
 */
export function renderWebService(ws: WebService, ctx: RenderContext): RenderResult {
  const id = identityOf(ws, ctx);
  const spec = normalizeSpec(ws.spec);
  let objects = renderPatched(ws, id, spec, ctx);
  const desired = desiredFrom(objects, id, () => renderPodTemplateFor(id, spec, ctx, 'stable'));
  // Without a rollout (preview, a controller without delivery) the patched template stays as it is.
  if (ctx.rollout?.stableTemplate) objects = withTemplate(objects, id.name, withTrack(ctx.rollout.stableTemplate, 'stable'));
  const canary = ctx.rollout?.canary;
  if (canary) objects = withTemplate(objects, `${id.name}-canary`, withTrack(canary.template, 'canary'));
  const extras = (spec.advanced?.extraManifests ?? []).map((m) => adoptExtraManifest(m as Record<string, unknown>, ws, id));
  const url = urlOf(spec);
  return {
    objects: [...objects, ...extras],
    tier: tierOf(ws.spec),
    revision: desired.revision,
    ...(url ? { url } : {}),
  };
}
