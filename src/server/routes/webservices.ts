/**
 * WebService routes: one service with intent, reality and rollout history; create, update and delete
 * from a small JSON intent; preview (rendered objects and projected monthly cost, nothing applied);
 * manual rollout controls. Every write goes through the ResourceWriter, which asks Kubernetes whether the
 * caller may make it (SubjectAccessReview) and makes it as the namespace's deployer, so Kubernetes RBAC
 * has the last word; the team check here only gives a clear 403 first.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ApiError, ErrorBodySchema, ErrorCode, notFound } from '../api-error.js';
import type { ApiEnv } from '../../access/index.js';
import { CONTROL_ACTIONS, controlAnnotation } from '../controls.js';
import { buildView } from '../feed.js';
import { CreateIntentSchema, UpdateIntentSchema, intentToWebService } from '../intent.js';
import { KubeObjectSchema, PreviewSchema, WebServiceDetailSchema } from '../schemas.js';
import { readRollout, readRolloutHistory } from '../view.js';
import { readableNamespace, writableNamespace, type RouteContext } from './context.js';
import { violationsOf } from './teams.js';

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const errors = {
  400: json(ErrorBodySchema, 'Invalid intent: `field` names the offending field'),
  401: json(ErrorBodySchema, 'Not authenticated'),
  403: json(ErrorBodySchema, 'Not allowed (team scoping or Kubernetes RBAC)'),
  404: json(ErrorBodySchema, 'Not found'),
} as const;

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
const NsParams = z.object({ namespace: dnsLabel.openapi({ param: { name: 'namespace', in: 'path' }, example: 'team-a' }) });
const NsNameParams = NsParams.extend({ name: dnsLabel.openapi({ param: { name: 'name', in: 'path' }, example: 'shop' }) });
const ActionParams = NsNameParams.extend({ action: z.enum(CONTROL_ACTIONS).openapi({ param: { name: 'action', in: 'path' } }) });
const WriteResult = z.object({ namespace: z.string(), name: z.string(), webService: KubeObjectSchema }).openapi('WriteResult');

/** Registers the WebService routes on `app`. */
export function registerWebServiceRoutes(app: OpenAPIHono<ApiEnv>, ctx: RouteContext): void {
  registerGetRoute(app, ctx);
  registerCreateRoute(app, ctx);
  registerPreviewRoute(app, ctx);
  registerUpdateRoute(app, ctx);
  registerDeleteRoute(app, ctx);
  registerControlRoute(app, ctx);
}

/** GET one service: intent, reality, rollout state and history. */
function registerGetRoute(app: OpenAPIHono<ApiEnv>, ctx: RouteContext): void {
app.openapi(
  createRoute({
    method: 'get',
    path: '/namespaces/{namespace}/webservices/{name}',
    summary: 'One WebService: intent, reality, rollout state and history',
    request: { params: NsNameParams },
    responses: { 200: json(WebServiceDetailSchema, 'The service'), ...errors },
  }),
  (c) => {
    const { namespace, name } = c.req.valid('param');
    readableNamespace(ctx, c.get('caller'), namespace);
    const ws = ctx.sources.webServices.getByName(name, namespace);
    const view = ws ? buildView(ctx.sources, { namespace, name }, { now: ctx.now(), previous: ctx.hub.view(`${namespace}/${name}`) }) : undefined;
    if (!ws || !view) throw notFound(`webservice ${namespace}/${name} not found`);
    const status = (ws as { status?: { inventory?: unknown[] } }).status;
    return c.json(
      {
        view,
        spec: (ws as { spec?: unknown }).spec ?? {},
        rollout: readRollout(ws),
        rolloutHistory: readRolloutHistory(ws),
        inventory: status?.inventory ?? [],
        violations: violationsOf(ws),
      },
      200,
    );
  },
);
}

/** POST a new service from an intent. */
function registerCreateRoute(app: OpenAPIHono<ApiEnv>, ctx: RouteContext): void {
app.openapi(
  createRoute({
    method: 'post',
    path: '/namespaces/{namespace}/webservices',
    summary: 'Create a WebService from an intent (as the caller: Kubernetes RBAC decides)',
    request: { params: NsParams, body: { content: { 'application/json': { schema: CreateIntentSchema } }, required: true } },
    responses: { 201: json(WriteResult, 'Created'), 409: json(ErrorBodySchema, 'Exists'), ...errors },
  }),
  async (c) => {
    const { namespace } = c.req.valid('param');
    const intent = c.req.valid('json');
    const team = writableNamespace(ctx, c.get('caller'), namespace);
    const manifest = intentToWebService(namespace, intent.name, team, intent);
    const created = await ctx.writer.create(manifest, c.get('caller'));
    return c.json({ namespace, name: intent.name, webService: created as Record<string, unknown> }, 201);
  },
);
}

/** POST an intent for preview: rendered objects and projected cost, nothing applied. */
function registerPreviewRoute(app: OpenAPIHono<ApiEnv>, ctx: RouteContext): void {
app.openapi(
  createRoute({
    method: 'post',
    path: '/namespaces/{namespace}/webservices/preview',
    summary: 'What an intent would create, and its projected monthly cost; nothing is applied',
    request: { params: NsParams, body: { content: { 'application/json': { schema: CreateIntentSchema } }, required: true } },
    responses: { 200: json(PreviewSchema, 'Preview'), ...errors },
  }),
  async (c) => {
    const { namespace } = c.req.valid('param');
    const intent = c.req.valid('json');
    const team = readableNamespace(ctx, c.get('caller'), namespace);
    const manifest = intentToWebService(namespace, intent.name, team, intent);
    const notes: string[] = [];
    let objects: KubernetesObject[] = [];
    let violations: unknown[] = [];
    let allowed = true;
    if (ctx.preview) {
      const result = await ctx.preview(manifest, { team });
      objects = result.objects;
      violations = result.violations ?? [];
      allowed = result.allowed ?? true;
    } else {
      notes.push('renderer not wired into the API: only the WebService itself is shown');
      objects = [manifest];
    }
    let cost: { monthly: number; currency: string; breakdown?: unknown } | null = null;
    if (ctx.projectMonthlyCost) cost = await ctx.projectMonthlyCost(objects, { team, namespace });
    else notes.push('cost model not wired into the API: no projection');
    return c.json({ objects: objects as Array<Record<string, unknown>>, rendered: !!ctx.preview, allowed, violations, cost, notes }, 200);
  },
);
}

/** PUT an intent (server-side apply). */
function registerUpdateRoute(app: OpenAPIHono<ApiEnv>, ctx: RouteContext): void {
app.openapi(
  createRoute({
    method: 'put',
    path: '/namespaces/{namespace}/webservices/{name}',
    summary: "Update (or create) a WebService's intent with server-side apply, as the caller",
    request: { params: NsNameParams, body: { content: { 'application/json': { schema: UpdateIntentSchema } }, required: true } },
    responses: { 200: json(WriteResult, 'Applied'), ...errors },
  }),
  async (c) => {
    const { namespace, name } = c.req.valid('param');
    const intent = c.req.valid('json');
    if (intent.name !== undefined && intent.name !== name) {
      throw new ApiError(400, ErrorCode.InvalidSpec, `name: must match the path (${name})`, 'name');
    }
    const team = writableNamespace(ctx, c.get('caller'), namespace);
    const applied = await ctx.writer.apply(intentToWebService(namespace, name, team, intent), c.get('caller'));
    return c.json({ namespace, name, webService: applied as Record<string, unknown> }, 200);
  },
);
}

/** DELETE a service. */
function registerDeleteRoute(app: OpenAPIHono<ApiEnv>, ctx: RouteContext): void {
app.openapi(
  createRoute({
    method: 'delete',
    path: '/namespaces/{namespace}/webservices/{name}',
    summary: 'Delete a WebService, as the caller',
    request: { params: NsNameParams },
    responses: { 200: json(z.object({ deleted: z.boolean() }), 'Deleted'), ...errors },
  }),
  async (c) => {
    const { namespace, name } = c.req.valid('param');
    writableNamespace(ctx, c.get('caller'), namespace);
    const deleted = await ctx.writer.delete({ namespace, name }, c.get('caller'));
    if (!deleted) throw notFound(`webservice ${namespace}/${name} not found`);
    return c.json({ deleted }, 200);
  },
);
}

/** POST a manual rollout control (promote, abort, retry, pause, resume). */
function registerControlRoute(app: OpenAPIHono<ApiEnv>, ctx: RouteContext): void {
app.openapi(
  createRoute({
    method: 'post',
    path: '/namespaces/{namespace}/webservices/{name}/{action}',
    summary: 'Manual rollout control: promote (body {"full": true} for all the way), abort, retry, pause, resume',
    request: {
      params: ActionParams,
      body: { content: { 'application/json': { schema: z.object({ full: z.boolean().optional() }).strict() } }, required: false },
    },
    responses: { 202: json(z.object({ action: z.string(), annotation: z.record(z.string(), z.string()) }), 'Requested'), ...errors },
  }),
  async (c) => {
    const { namespace, name, action } = c.req.valid('param');
    const body: { full?: boolean } = c.req.header('content-type')?.includes('json') ? c.req.valid('json') : {};
    writableNamespace(ctx, c.get('caller'), namespace);
    if (!ctx.sources.webServices.getByName(name, namespace)) throw notFound(`webservice ${namespace}/${name} not found`);
    const annotation = controlAnnotation(action, body.full === true);
    await ctx.writer.annotate({ namespace, name }, annotation, c.get('caller'));
    return c.json({ action, annotation }, 202);
  },
);
}
