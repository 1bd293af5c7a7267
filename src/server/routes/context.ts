/**
 * What route modules share: the caches, the hub, the writer, the seams to the renderer and the cost
 * model, and the helpers that turn a namespace or team into an authorised target.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Logger } from '../../log.js';
import { fromZodError, forbidden, notFound } from '../api-error.js';
import { canReadTeam, canWriteTeam, type ApiEnv, type Caller } from '../../access/index.js';
import type { StreamHub } from '../hub.js';
import type { ServerSources } from '../sources.js';
import { namespaceIndex, teamOfNamespace } from '../../tenancy/namespaces.js';
import type { ResourceWriter } from '../writer.js';

/** What a preview function returns: the objects the controller would apply, and policy results. */
export interface PreviewResult {
  objects: KubernetesObject[];
  violations?: unknown[];
  /** False when an enforced policy would stop the controller from applying the objects. */
  allowed?: boolean;
}

/** The renderer seam (src/webservice's preview). */
export type PreviewFn = (webService: KubernetesObject, ctx: { team: string }) => PreviewResult | Promise<PreviewResult>;

/** A projected monthly cost. */
export interface CostProjection {
  monthly: number;
  currency: string;
  breakdown?: unknown;
}

/** The cost seam (src/cost's model): projected monthly cost of rendered objects. */
export type CostFn = (objects: KubernetesObject[], ctx: { team: string; namespace: string }) => CostProjection | Promise<CostProjection>;

/** Dependencies of the route modules. */
export interface RouteContext {
  sources: ServerSources;
  hub: StreamHub;
  writer: ResourceWriter;
  preview?: PreviewFn;
  projectMonthlyCost?: CostFn;
  now: () => string;
  logger: Logger;
}

/** An OpenAPIHono whose validation failures become `{code: InvalidSpec, field}` 400s. */
export function createRouter(): OpenAPIHono<ApiEnv> {
  return new OpenAPIHono<ApiEnv>({
    defaultHook: (result) => {
      if (!result.success) throw fromZodError(result.error, result.target === 'json' ? '' : result.target);
    },
  });
}

/** The team that owns `namespace`, checked for read access (403 when another team's, 404 when nobody's). */
export function readableNamespace(ctx: RouteContext, caller: Caller, namespace: string): string {
  const team = teamOfNamespace(namespace, namespaceIndex(ctx.sources.namespaces.list()));
  if (!team) {
    if (caller.isPlatformAdmin) return '';
    throw notFound(`namespace ${namespace} belongs to no team`);
  }
  if (!canReadTeam(caller, team)) throw forbidden(`caller may not read team ${team}`);
  return team;
}

/** The team that owns `namespace`, checked for write access. */
export function writableNamespace(ctx: RouteContext, caller: Caller, namespace: string): string {
  const team = teamOfNamespace(namespace, namespaceIndex(ctx.sources.namespaces.list()));
  if (!team) {
    if (caller.isPlatformAdmin) return '';
    throw notFound(`namespace ${namespace} belongs to no team`);
  }
  if (!canWriteTeam(caller, team)) throw forbidden(`caller may not change team ${team}'s services`);
  return team;
}

/** A Team from the cache, checked for read access. */
export function readableTeam(ctx: RouteContext, caller: Caller, name: string): KubernetesObject {
  const team = ctx.sources.teams.getByName(name);
  if (!team) throw notFound(`team ${name} not found`);
  if (!canReadTeam(caller, name)) throw forbidden(`caller may not read team ${name}`);
  return team;
}
