/**
 * The API as a Hono app, with no server: `createApp(deps)` returns something `app.request()` can test
 * and `serve.ts` can listen with.
 *
 * Layout:
 *   /healthz, /readyz, /metrics, /openapi.json        no auth
 *   /, /assets/*, /portal.json                          the developer portal (portal.ts), no auth
 *   /api/v1/*                                          request id -> metrics -> audit -> auth -> routes
 *     me, teams, namespaces/{ns}/webservices..., stream (WebSocket), stream/tickets,
 *     and the extra route modules of other capabilities (`deps.routes`, e.g. cost).
 * Every error leaves as `{ code, message, field? }` (api-error.ts).
 */
import { randomUUID } from 'node:crypto';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { register as defaultRegistry, type Registry } from 'prom-client';
import type { Logger } from '../log.js';
import { ApiError, ErrorBodySchema, ErrorCode, errorResponse, notFound, toApiError } from './api-error.js';
import { authMiddleware, TicketStore, type AuthMode } from './auth.js';
import type { ApiEnv } from '../access/index.js';
import type { StreamHub } from './hub.js';
import { apiMetrics, type ApiMetrics } from './metrics.js';
import { createRouter, type CostFn, type PreviewFn, type RouteContext } from './routes/context.js';
import { registerTeamRoutes } from './routes/teams.js';
import { registerWebServiceRoutes } from './routes/webservices.js';
import { CallerSchema } from './schemas.js';
import { sourcesSynced, type ServerSources } from './sources.js';
import { registerPortal, type PortalOptions } from './portal.js';
import { createStreamEndpoint, type StreamEndpoint } from './stream.js';
import type { RoleGroups } from '../access/index.js';
import type { ResourceWriter } from './writer.js';

/** A route module of another capability, mounted under /api/v1 behind auth. */
export interface RouteModule {
  /** Mount path under /api/v1, e.g. `/cost` or `/teams/:team/recommendations`. */
  path: string;
  app: Hono<ApiEnv> | OpenAPIHono<ApiEnv>;
  /**
   * The module answers from a source of its own (the cost routes: Prometheus), so it serves before the
   * informer caches have synced. Default false: it reads the caches, and gets the 503 until they have.
   */
  servesWhileSyncing?: boolean;
}

/** Everything the API needs. */
export interface AppDeps {
  sources: ServerSources;
  hub: StreamHub;
  writer: ResourceWriter;
  auth: AuthMode;
  roles: RoleGroups;
  logger: Logger;
  /** Registry served on /metrics (default: prom-client's global one, where src/kube registers too). */
  registry?: Registry;
  tickets?: TicketStore;
  routes?: RouteModule[];
  preview?: PreviewFn;
  projectMonthlyCost?: CostFn;
  /** Extra readiness (e.g. leader election state); caches must be synced regardless. */
  isReady?: () => boolean;
  /** Stream tuning (heartbeat, close grace); the endpoint is created here. */
  stream?: { heartbeatMs?: number; closeGraceMs?: number };
  now?: () => string;
  /** Largest request body accepted, in bytes (413 above). Default 1 MiB: an intent is a few KiB. */
  maxBodyBytes?: number;
  /** The developer portal under `/` (web/dist), when given. */
  portal?: PortalOptions;
}

/** The default request body cap (the API server's own limit is 3 MiB; nothing paved takes comes close). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** The app and the pieces the server starter needs to shut it down. */
export interface ApiApp {
  app: OpenAPIHono<ApiEnv>;
  stream: StreamEndpoint;
  tickets: TicketStore;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Probes and metrics, outside /api/v1 and without auth. */
function registerProbes(app: OpenAPIHono<ApiEnv>, deps: AppDeps, registry: Registry): void {
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', (c) => {
    const synced = sourcesSynced(deps.sources);
    const extra = deps.isReady ? deps.isReady() : true;
    return c.json({ status: synced && extra ? 'ready' : 'not ready', cachesSynced: synced }, synced && extra ? 200 : 503);
  });
  app.get('/metrics', async (c) => c.text(await registry.metrics(), 200, { 'content-type': registry.contentType }));
}

/** Request id (a sane given one or a fresh UUID, echoed back) and per-route request metrics. */
function useRequestIdAndMetrics(app: OpenAPIHono<ApiEnv>, metrics: ApiMetrics): void {
  app.use('/api/v1/*', async (c, next) => {
    const given = c.req.header('x-request-id');
    const requestId = given && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    c.set('requestId', requestId);
    c.header('x-request-id', requestId);
    const started = performance.now();
    await next();
    const route = c.req.routePath || 'unmatched';
    metrics.requests.inc({ method: c.req.method, route, status: String(c.res.status) });
    metrics.requestSeconds.observe({ method: c.req.method, route }, (performance.now() - started) / 1000);
  });
}

/** One audit log line (and counter) per mutating request, with who, what and the result. */
function useAudit(app: OpenAPIHono<ApiEnv>, metrics: ApiMetrics, log: Logger): void {
  app.use('/api/v1/*', async (c, next) => {
    if (!MUTATING.has(c.req.method)) return next();
    await next();
    const caller = c.get('caller') as ApiEnv['Variables']['caller'] | undefined;
    const status = c.res.status;
    const result = status < 400 ? 'success' : status === 401 || status === 403 ? 'denied' : 'failed';
    metrics.auditEvents.inc({ result });
    log.info(
      {
        audit: true,
        requestId: c.get('requestId'),
        who: caller?.subject ?? 'anonymous',
        groups: caller?.groups ?? [],
        what: `${c.req.method} ${c.req.routePath}`,
        target: c.req.path,
        status,
        result,
      },
      'audit',
    );
  });
}

/** The /api/v1 routes (mounted behind auth): me, teams, webservices, stream, tickets, capability modules. */
function createV1Router(deps: AppDeps, ctx: RouteContext, tickets: TicketStore, stream: StreamEndpoint): OpenAPIHono<ApiEnv> {
  const v1 = createRouter();
  // Before the first list completes, an empty cache would read as "no teams, no services": say so instead.
  const ownSourcePaths = (deps.routes ?? []).filter((m) => m.servesWhileSyncing).map((m) => `/api/v1${m.path}`);
  v1.use('*', async (c, next) => {
    if (ownSourcePaths.some((p) => c.req.path === p || c.req.path.startsWith(`${p}/`))) return next();
    if (!sourcesSynced(deps.sources)) throw new ApiError(503, ErrorCode.NotReady, 'informer caches are still syncing; retry shortly');
    return next();
  });
  v1.openapi(
    createRoute({
      method: 'get',
      path: '/me',
      summary: 'Who the API thinks the caller is',
      responses: {
        200: { description: 'The caller', content: { 'application/json': { schema: CallerSchema } } },
        401: { description: 'Not authenticated', content: { 'application/json': { schema: ErrorBodySchema } } },
      },
    }),
    (c) => {
      const caller = c.get('caller');
      return c.json({ ...caller, groups: [...caller.groups], teams: [...caller.teams] }, 200);
    },
  );
  registerTeamRoutes(v1, ctx);
  registerWebServiceRoutes(v1, ctx);
  v1.openapi(
    createRoute({
      method: 'post',
      path: '/stream/tickets',
      summary: 'A single-use ticket (30 s) for the stream: offer `ticket.<ticket>` in Sec-WebSocket-Protocol',
      responses: {
        201: {
          description: 'Ticket',
          content: { 'application/json': { schema: z.object({ ticket: z.string(), expiresInSeconds: z.number() }) } },
        },
        401: { description: 'Not authenticated', content: { 'application/json': { schema: ErrorBodySchema } } },
      },
    }),
    (c) => c.json(tickets.issue(c.get('caller')), 201),
  );
  v1.get('/stream', stream.handler, (c) =>
    c.json({ code: 'BadRequest', message: 'the stream is a WebSocket: send an Upgrade request' }, 426),
  );
  for (const mod of deps.routes ?? []) v1.route(mod.path, mod.app as Hono<ApiEnv>);
  return v1;
}

/** The OpenAPI document: the stream's handshake (not an OpenAPI operation), /openapi.json, the bearer scheme. */
function documentApi(app: OpenAPIHono<ApiEnv>): void {
  // The stream is a WebSocket (not an OpenAPI operation); document its handshake so it is discoverable.
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/api/v1/stream',
    summary:
      'WebSocket stream of intent versus reality (subprotocols: paved.v1 plus bearer.<jwt> or ticket.<id>); see docs/api.md',
    request: {
      query: z.object({
        team: z.string(),
        service: z.string().optional().openapi({ description: 'namespace/name' }),
        epoch: z.string().optional(),
        since: z.string().optional().openapi({ description: 'last sequence number processed, to resume' }),
      }),
    },
    responses: {
      101: { description: 'Switching protocols: JSON messages snapshot, service, delta, removed, resumed' },
      401: { description: 'Not authenticated', content: { 'application/json': { schema: ErrorBodySchema } } },
      403: { description: 'Not a reader of the team', content: { 'application/json': { schema: ErrorBodySchema } } },
      426: { description: 'Not a WebSocket upgrade', content: { 'application/json': { schema: ErrorBodySchema } } },
    },
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    security: [{ bearer: [] }],
    info: {
      title: 'paved API',
      version: 'v1',
      description:
        'Teams, WebServices (intent versus reality), previews, rollout controls and a live WebSocket stream at /api/v1/stream.',
    },
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
}

/** Builds the API. */
export function createApp(deps: AppDeps): ApiApp {
  const registry = deps.registry ?? defaultRegistry;
  const metrics = apiMetrics(registry);
  metrics.hubs.add(deps.hub);
  const tickets = deps.tickets ?? new TicketStore();
  const log = deps.logger;
  const ctx: RouteContext = {
    sources: deps.sources,
    hub: deps.hub,
    writer: deps.writer,
    now: deps.now ?? (() => new Date().toISOString()),
    logger: log,
    ...(deps.preview ? { preview: deps.preview } : {}),
    ...(deps.projectMonthlyCost ? { projectMonthlyCost: deps.projectMonthlyCost } : {}),
  };
  const stream = createStreamEndpoint({ hub: deps.hub, metrics, logger: log, ...deps.stream });

  const app = createRouter();
  app.onError((err, c) => {
    const apiErr = toApiError(err);
    if (apiErr.status >= 500) log.error({ err, path: c.req.path }, 'api: request failed');
    return errorResponse(c, apiErr);
  });
  app.notFound((c) => errorResponse(c, notFound(`no route ${c.req.method} ${c.req.path}`)));

  registerProbes(app, deps, registry);

  // /api/v1: request id, metrics, audit, auth: in this order, so a 401 is measured and audited too.
  useRequestIdAndMetrics(app, metrics);
  useAudit(app, metrics, log);
  // Before auth: an oversized body is refused from its Content-Length (or as it streams), never buffered.
  const maxBodyBytes = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  app.use(
    '/api/v1/*',
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: (c) =>
        errorResponse(c, new ApiError(413, ErrorCode.PayloadTooLarge, `request body exceeds the limit of ${maxBodyBytes} bytes`)),
    }),
  );
  app.use('/api/v1/*', authMiddleware({ mode: deps.auth, teams: deps.sources.teams, roles: deps.roles, tickets }));

  const v1 = createV1Router(deps, ctx, tickets, stream);
  app.route('/api/v1', v1);

  documentApi(app);
  // Last: the page's catch-all must not shadow any API or platform route.
  if (deps.portal) registerPortal(app, deps.portal);
  return { app, stream, tickets };
}
