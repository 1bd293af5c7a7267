/**
 * Team routes: the caller's teams, one team, its WebServices (intent and reality) and its policy
 * violations. Reads only informer caches.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ErrorBodySchema } from '../api-error.js';
import { asTeam, canReadTeam, type ApiEnv } from '../../access/index.js';
import { buildView } from '../feed.js';
import { ServiceViewSchema, TeamSchema, ViolationSchema } from '../schemas.js';
import { namespaceIndex, teamNamespaces } from '../../tenancy/namespaces.js';
import { summarizeTeam } from '../teams.js';
import type { ServiceView } from '../view.js';
import { createRouter, readableTeam, type RouteContext } from './context.js';

const errors = {
  401: { description: 'Not authenticated', content: { 'application/json': { schema: ErrorBodySchema } } },
  403: { description: 'Not a member of the team', content: { 'application/json': { schema: ErrorBodySchema } } },
  404: { description: 'No such team', content: { 'application/json': { schema: ErrorBodySchema } } },
} as const;

const TeamParams = z.object({ team: z.string().openapi({ param: { name: 'team', in: 'path' }, example: 'team-a' }) });

type Violation = z.infer<typeof ViolationSchema>;

/** The views of a team's WebServices, from the caches (same projection as the stream). */
export function teamViews(ctx: RouteContext, team: KubernetesObject): ServiceView[] {
  const now = ctx.now();
  const index = namespaceIndex(ctx.sources.namespaces.list());
  const out: ServiceView[] = [];
  for (const ns of teamNamespaces(asTeam(team), index)) {
    for (const ws of ctx.sources.webServices.list(ns)) {
      const name = ws.metadata?.name ?? '';
      const view = buildView(ctx.sources, { namespace: ns, name }, { now, previous: ctx.hub.view(`${ns}/${name}`), index });
      if (view) out.push(view);
    }
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The value when it is a string (the CRD schema types these fields as strings), else `fallback`. */
const stringOr = (v: unknown, fallback: string): string => (typeof v === 'string' ? v : fallback);

/** Policy violations reported in a WebService's status (enforced and audited). */
export function violationsOf(ws: KubernetesObject): Violation[] {
  const status = (ws as { status?: { policy?: { violations?: unknown[] } } }).status;
  return (status?.policy?.violations ?? []).map((v) => {
    const x = (v ?? {}) as Record<string, unknown>;
    return {
      namespace: ws.metadata?.namespace ?? '',
      service: ws.metadata?.name ?? '',
      policy: stringOr(x['policy'], ''),
      object: stringOr(x['object'], ''),
      field: stringOr(x['field'], ''),
      message: stringOr(x['message'], ''),
      mode: stringOr(x['mode'], 'enforce'),
    };
  });
}

/** Registers the team routes on `app`. */
export function registerTeamRoutes(app: OpenAPIHono<ApiEnv>, ctx: RouteContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/teams',
      summary: "The caller's teams (all teams for platform admins and finance)",
      responses: {
        200: { description: 'Teams', content: { 'application/json': { schema: z.object({ items: z.array(TeamSchema) }) } } },
        401: errors[401],
      },
    }),
    (c) => {
      const caller = c.get('caller');
      const owners = namespaceIndex(ctx.sources.namespaces.list());
      const items = ctx.sources.teams
        .list()
        .filter((t) => canReadTeam(caller, t.metadata?.name ?? ''))
        .map((t) => summarizeTeam(t, owners))
        .sort((a, b) => (a.name < b.name ? -1 : 1));
      return c.json({ items }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/teams/{team}',
      summary: 'One team',
      request: { params: TeamParams },
      responses: {
        200: { description: 'The team', content: { 'application/json': { schema: TeamSchema } } },
        ...errors,
      },
    }),
    (c) => {
      const team = readableTeam(ctx, c.get('caller'), c.req.valid('param').team);
      return c.json(summarizeTeam(team, namespaceIndex(ctx.sources.namespaces.list())), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/teams/{team}/webservices',
      summary: "A team's WebServices with intent and reality",
      request: { params: TeamParams },
      responses: {
        200: { description: 'Services', content: { 'application/json': { schema: z.object({ items: z.array(ServiceViewSchema) }) } } },
        ...errors,
      },
    }),
    (c) => {
      const team = readableTeam(ctx, c.get('caller'), c.req.valid('param').team);
      return c.json({ items: teamViews(ctx, team) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/teams/{team}/violations',
      summary: "Policy violations of a team's WebServices (enforced and audit-only)",
      request: { params: TeamParams },
      responses: {
        200: { description: 'Violations', content: { 'application/json': { schema: z.object({ items: z.array(ViolationSchema) }) } } },
        ...errors,
      },
    }),
    (c) => {
      const team = readableTeam(ctx, c.get('caller'), c.req.valid('param').team);
      const owners = namespaceIndex(ctx.sources.namespaces.list());
      const items = teamNamespaces(asTeam(team), owners).flatMap((ns) => ctx.sources.webServices.list(ns).flatMap(violationsOf));
      return c.json({ items }, 200);
    },
  );
}

/** A router with only the team routes (for mounting elsewhere). */
export function teamRouter(ctx: RouteContext): OpenAPIHono<ApiEnv> {
  const app = createRouter();
  registerTeamRoutes(app, ctx);
  return app;
}
