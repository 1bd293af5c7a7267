/**
 * GET /api/v1/teams/{team}/recommendations (JSON, or CSV with `Accept: text/csv`): the team's
 * Recommendations from the shared informer cache, per WebService and container, current vs
 * recommended requests, state and reason, and projected monthly savings per service and for the team
 * (src/cost's model, computed by the engine). Team-scoped like the cost routes: members of the team,
 * finance and platform admins; others get 403.
 */
import { Hono, type Context } from 'hono';
import { canReadTeam, type ApiEnv } from '../access/index.js';
import { toCsv, type CsvValue } from '../cost/csv.js';
import type { RecommendationObject } from './applied.js';

const TEAM_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export interface RecommendationRoutesDeps {
  /** Every Recommendation (the shared informer's cache). */
  list: () => readonly RecommendationObject[];
  /** The team owning a namespace (its paved.dev/team label), from the Namespace cache. */
  teamOfNamespace: (namespace: string) => string | undefined;
}

/** One service's line of the report. */
export interface ServiceRecommendation {
  namespace: string;
  webService: string;
  mode: string;
  state: string;
  reason: string;
  message: string;
  stableDays: number | null;
  daysOfData: number | null;
  daysNeeded: number | null;
  projectedMonthlySavings: number;
  applied: Array<{ name: string; cpu?: string; memory?: string }>;
  containers: Array<{ name: string; current: { cpu?: string; memory?: string }; recommended: { cpu?: string; memory?: string } | null; notes: string[] }>;
}

export interface TeamRecommendations {
  team: string;
  currency: string;
  projectedMonthlySavings: number;
  services: ServiceRecommendation[];
}

function serviceLine(r: RecommendationObject): ServiceRecommendation {
  const st = r.status ?? {};
  return {
    namespace: r.metadata?.namespace ?? '',
    webService: r.spec.webService,
    mode: r.spec.mode,
    state: st.state ?? 'Collecting',
    reason: st.reason ?? '',
    message: st.message ?? '',
    stableDays: st.stableDays ?? null,
    daysOfData: st.daysOfData ?? null,
    daysNeeded: st.daysNeeded ?? null,
    projectedMonthlySavings: st.projectedMonthlySavings ?? 0,
    applied: r.spec.applied?.containers ?? [],
    containers: (st.containers ?? []).map((c) => ({ name: c.name, current: c.current ?? {}, recommended: c.recommended ?? null, notes: c.notes ?? [] })),
  };
}

/** The report of one team (pure). */
export function teamRecommendations(team: string, recs: readonly RecommendationObject[]): TeamRecommendations {
  const services: ServiceRecommendation[] = recs
    .map(serviceLine)
    .sort((a, b) => b.projectedMonthlySavings - a.projectedMonthlySavings || a.namespace.localeCompare(b.namespace) || a.webService.localeCompare(b.webService));
  const total = services.reduce((s, x) => s + x.projectedMonthlySavings, 0);
  return { team, currency: recs[0]?.status?.currency ?? 'USD', projectedMonthlySavings: Math.round(total * 100) / 100, services };
}

const CSV_HEADER = ['team', 'namespace', 'webService', 'container', 'state', 'reason', 'currentCpu', 'recommendedCpu', 'currentMemory', 'recommendedMemory', 'stableDays', 'projectedMonthlySavings'];

function csvOf(r: TeamRecommendations): string {
  const rows: CsvValue[][] = r.services.flatMap((s) =>
    (s.containers.length ? s.containers : [{ name: '', current: {}, recommended: null, notes: [] }]).map((c) => [
      r.team, s.namespace, s.webService, c.name, s.state, s.reason, c.current.cpu, c.recommended?.cpu, c.current.memory, c.recommended?.memory, s.stableDays, s.projectedMonthlySavings,
    ]),
  );
  return toCsv(CSV_HEADER, rows);
}

/** The route module, mounted at `/teams/:team/recommendations` under /api/v1. */
export function createRecommendationRoutes(deps: RecommendationRoutesDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get('/', (c: Context<ApiEnv>) => {
    const caller = c.get('caller');
    if (!caller) return c.json({ code: 'Unauthenticated', message: 'no caller' }, 401);
    const team = c.req.param('team') ?? '';
    if (!TEAM_NAME.test(team)) return c.json({ code: 'InvalidInput', message: `"${team}" is not a valid team name`, field: 'team' }, 400);
    if (!canReadTeam(caller, team)) return c.json({ code: 'Forbidden', message: `you may not read the recommendations of team ${team}`, field: 'team' }, 403);
    const recs = deps.list().filter((r) => deps.teamOfNamespace(r.metadata?.namespace ?? '') === team);
    const report = teamRecommendations(team, recs);
    if (/\btext\/csv\b/i.test(c.req.header('accept') ?? '')) {
      return c.body(csvOf(report), 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="recommendations-${team}.csv"` });
    }
    return c.json(report);
  });
  return app;
}

/** Where the module is mounted under /api/v1. */
export const RECOMMENDATIONS_ROUTE = '/teams/:team/recommendations';
