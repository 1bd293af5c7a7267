/**
 * The cost API (JSON, or CSV with `Accept: text/csv`). Mounted by the server under its API prefix;
 * reads the Caller set by the auth middleware: finance and platform admins see every team, other
 * callers only their own teams.
 *
 *   GET /cost/teams                      all teams: ?window=30d&step=1d or ?start=..&end=..&step=..
 *   GET /cost/teams/:team                one team by environment, service and resource, per bucket
 *   GET /cost/teams/:team/budget         burn rate (7 days), projected month end, status vs budget
 *   GET /cost/teams/:team/trend          week over week (?period=7d)
 *   GET /cost/teams/:team/idle           the team's idle services (?window=7d)
 *   GET /cost/teams/:team/deployments    cost per deployment (?window=30d)
 *   GET /cost/idle                       idle services of every visible team
 *   GET /cost/pricing                    the prices in effect
 *
 * Errors: JSON `{ code, message, field }` with 400 (bad query), 403, 404 (unknown team); a failed
 * query `{ code, message, metric, query }` with 502 (Prometheus rejected it) or 503 (unavailable).
 */
import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { PavedError, PrometheusUnavailableError } from '../errors.js';
import type { Logger } from '../log.js';
import { canReadTeam, type ApiEnv, type Caller } from '../access/index.js';
import { COST_LINE_COLUMNS, lineValues, toCsv, type CsvValue } from './csv.js';
import { CostForbiddenError, CostInputError, CostQueryError, TeamNotFoundError } from './errors.js';
import type { CostService, IdleService } from './service.js';
import type { WindowInput } from './window.js';

export interface CostRoutesDeps {
  readonly cost: CostService;
  readonly logger?: Logger;
}

const TEAM_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

interface ErrorBody {
  code: string;
  message: string;
  field?: string;
  /** For a failed query: the metric and the PromQL (reproducible with query_range). */
  metric?: string;
  query?: string;
}

function errorOf(err: unknown): { status: ContentfulStatusCode; body: ErrorBody } {
  if (err instanceof CostInputError) return { status: 400, body: { code: err.code, message: err.message, field: err.field } };
  if (err instanceof TeamNotFoundError) return { status: 404, body: { code: err.code, message: err.message, field: err.field } };
  if (err instanceof CostForbiddenError) return { status: 403, body: { code: err.code, message: err.message, field: err.field } };
  if (err instanceof CostQueryError) return { status: err.status, body: { code: err.code, message: err.message, metric: err.metric, query: err.query } };
  if (err instanceof PrometheusUnavailableError) return { status: 503, body: { code: err.code, message: err.message } };
  if (err instanceof PavedError) return { status: 500, body: { code: 'Internal', message: err.message } };
  return { status: 500, body: { code: 'Internal', message: 'internal error' } };
}

function callerOf(c: Context<ApiEnv>): Caller | undefined {
  return c.get('caller');
}

function wantsCsv(c: Context<ApiEnv>): boolean {
  return /\btext\/csv\b/i.test(c.req.header('accept') ?? '');
}

function csvResponse(c: Context<ApiEnv>, name: string, body: string): Response {
  return c.body(body, 200, {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="${name}.csv"`,
  });
}

function windowInput(c: Context<ApiEnv>): WindowInput {
  return { window: c.req.query('window'), step: c.req.query('step'), start: c.req.query('start'), end: c.req.query('end') };
}

/** Validates the team path parameter and the caller's right to read it. */
function authorize(c: Context<ApiEnv>): string {
  const team = c.req.param('team') ?? '';
  if (!TEAM_NAME.test(team)) throw new CostInputError('team', `"${team}" is not a valid team name`);
  const caller = callerOf(c);
  if (!caller || !canReadTeam(caller, team)) throw new CostForbiddenError(team);
  return team;
}

const lineHeader = [...COST_LINE_COLUMNS];

/**
 * Creates the cost route module: `/cost/...` by default; with `prefix: ''` the paths are relative, for
 * mounting as a module of the API (`{ path: '/cost', app }`).
 */
/** Wraps a route handler: no caller -> 401; a thrown error -> its status and body (5xx logged). */
function guardedBy(deps: CostRoutesDeps) {
  return (fn: (c: Context<ApiEnv>) => Response | Promise<Response>) =>
    async (c: Context<ApiEnv>): Promise<Response> => {
      try {
        if (!callerOf(c)) return c.json({ code: 'Unauthenticated', message: 'no caller' }, 401);
        return await fn(c);
      } catch (err) {
        const { status, body } = errorOf(err);
        if (status >= 500) deps.logger?.error({ err, path: c.req.path }, 'cost request failed');
        return c.json(body, status);
      }
    };
}

export function createCostRoutes(deps: CostRoutesDeps, { prefix = '/cost' }: { prefix?: string } = {}): Hono<ApiEnv> {
  const { cost } = deps;
  const app = new Hono<ApiEnv>();
  const handle = guardedBy(deps);

  app.get(`${prefix}/pricing`, handle((c) => c.json(cost.pricing)));

  app.get(
    `${prefix}/teams`,
    handle(async (c) => {
      const caller = callerOf(c) as Caller;
      const report = await cost.allTeams(windowInput(c), (team) => canReadTeam(caller, team));
      if (!wantsCsv(c)) return c.json(report);
      const rows: CsvValue[][] = report.teams.flatMap((t) => t.series.map((b) => [t.team, b.start, b.end, ...lineValues(b)]));
      return csvResponse(c, 'cost-teams', toCsv(['team', 'start', 'end', ...lineHeader], rows));
    }),
  );

  app.get(
    `${prefix}/idle`,
    handle(async (c) => {
      const caller = callerOf(c) as Caller;
      const report = await cost.idle(undefined, windowInput(c), (team) => canReadTeam(caller, team));
      return wantsCsv(c) ? csvResponse(c, 'cost-idle', idleCsv(report.idle)) : c.json(report);
    }),
  );

  app.get(
    `${prefix}/teams/:team`,
    handle(async (c) => {
      const team = authorize(c);
      const report = await cost.team(team, windowInput(c));
      if (!wantsCsv(c)) return c.json(report);
      const rows: CsvValue[][] = report.byService.flatMap((s) =>
        s.series.map((b) => [report.team, s.environment, s.namespace, s.service, b.start, b.end, ...lineValues(b)]),
      );
      return csvResponse(c, `cost-${team}`, toCsv(['team', 'environment', 'namespace', 'service', 'start', 'end', ...lineHeader], rows));
    }),
  );

  app.get(
    `${prefix}/teams/:team/budget`,
    handle(async (c) => {
      const r = await cost.budget(authorize(c));
      if (!wantsCsv(c)) return c.json(r);
      const header = ['team', 'currency', 'asOf', 'monthToDateCost', 'last7DaysCost', 'burnRatePerDay', 'projectedMonthEndCost', 'monthlyBudget', 'projectedRatio', 'status'];
      const row = [r.team, r.currency, r.asOf, r.monthToDateCost, r.last7DaysCost, r.burnRatePerDay, r.projectedMonthEndCost, r.monthlyBudget, r.projectedRatio, r.status];
      return csvResponse(c, `budget-${r.team}`, toCsv(header, [row]));
    }),
  );

  app.get(
    `${prefix}/teams/:team/trend`,
    handle(async (c) => {
      const r = await cost.trend(authorize(c), c.req.query('period'));
      if (!wantsCsv(c)) return c.json(r);
      const rows: CsvValue[][] = [
        [r.team, 'previous', r.previous.start, r.previous.end, ...lineValues(r.previous.totals)],
        [r.team, 'current', r.current.start, r.current.end, ...lineValues(r.current.totals)],
      ];
      return csvResponse(c, `trend-${r.team}`, toCsv(['team', 'period', 'start', 'end', ...lineHeader], rows));
    }),
  );

  app.get(
    `${prefix}/teams/:team/idle`,
    handle(async (c) => {
      const report = await cost.idle(authorize(c), windowInput(c));
      return wantsCsv(c) ? csvResponse(c, 'cost-idle', idleCsv(report.idle)) : c.json(report);
    }),
  );

  app.get(
    `${prefix}/teams/:team/deployments`,
    handle(async (c) => {
      const r = await cost.deployments(authorize(c), windowInput(c));
      if (!wantsCsv(c)) return c.json(r);
      const header = ['team', 'start', 'end', 'currency', 'cost', 'rollouts', 'costPerDeployment'];
      return csvResponse(c, `deployments-${r.team}`, toCsv(header, [[r.team, r.window.start, r.window.end, r.currency, r.cost, r.rollouts, r.costPerDeployment]]));
    }),
  );

  return app;
}

function idleCsv(list: readonly IdleService[]): string {
  const header: Array<keyof IdleService> = ['team', 'environment', 'namespace', 'service', 'cpuRequestedCoreHours', 'cpuUsedCoreHours', 'cpuUtilisation', 'memoryRequestedGiBHours', 'memoryUsedGiBHours', 'cost', 'costAtUsage', 'savings', 'monthlySavings'];
  return toCsv(header, list.map((s) => header.map((h) => s[h])));
}
