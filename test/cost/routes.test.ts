import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createCostRoutes } from '../../src/cost/routes.js';
import { createCostService } from '../../src/cost/service.js';
import { withCache, type CostPrometheus, type Series } from '../../src/cost/prometheus.js';
import { staticTeamDirectory } from '../../src/cost/teams.js';
import { RECORDED_SERIES, TEAM_RECORDED_SERIES } from '../../src/cost/queries.js';
import { PrometheusUnavailableError } from '../../src/errors.js';
import { PrometheusRejectedError } from '../../src/cost/errors.js';
import type { ApiEnv, Caller } from '../../src/access/index.js';

const NOW = new Date('2026-11-20T00:20:00Z');

/**
 * A fake Prometheus: every cost query returns 1 unit per hour per team and bucket. `recorded` says
 * which levels of paved's recorded series hold the window (the coverage check).
 */
function fakePrometheus(
  opts: { fail?: boolean; recorded?: ReadonlyArray<'team' | 'service'> } = {},
): CostPrometheus & { queries: string[]; checks: string[] } {
  const queries: string[] = [];
  const checks: string[] = [];
  const teams = ['team-a', 'team-b'];
  return {
    queries,
    checks,
    async rangeQuery(q, start, end, step) {
      queries.push(q);
      if (opts.fail) throw new PrometheusUnavailableError('down');
      const points: Array<[number, number]> = [];
      for (let t = start; t <= end; t += step) points.push([t, step / 3600]);
      const byService = q.includes('service');
      return teams.map<Series>((team) => {
        const labels: Record<string, string> = byService ? { team, environment: 'prod', namespace: team, service: 'api' } : { team };
        return { labels, points };
      });
    },
    async instantQuery(q, t) {
      if (q.includes(RECORDED_SERIES.cpuAllocated) && q.includes(' @ ')) {
        checks.push(q);
        return (opts.recorded ?? []).map((level) => ({ labels: { level }, points: [[t, 1]] as Array<[number, number]> }));
      }
      queries.push(q);
      return teams.map((team) => ({ labels: { team }, points: [[t, 4]] as Array<[number, number]> }));
    },
  };
}

function app(caller: Caller | undefined, prom: CostPrometheus = fakePrometheus()) {
  const cost = createCostService({
    prometheus: prom,
    teams: staticTeamDirectory([{ name: 'team-a', monthlyBudget: 100 }, { name: 'team-b' }]),
    now: () => NOW,
  });
  const root = new Hono<ApiEnv>();
  root.use('*', async (c, next) => {
    if (caller) c.set('caller', caller);
    await next();
  });
  root.route('/api/v1', createCostRoutes({ cost }));
  return root;
}

const finance: Caller = { subject: 'carol', groups: ['paved:finance'], teams: [], isPlatformAdmin: false, isFinance: true };
const lead: Caller = { subject: 'alice', groups: ['team-a'], teams: ['team-a'], isPlatformAdmin: false, isFinance: false };

describe('cost routes', () => {
  it('finance sees every team; one PromQL query per metric', async () => {
    const prom = fakePrometheus();
    const res = await app(finance, prom).request('/api/v1/cost/teams?window=30d&step=1d');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { teams: Array<{ team: string; series: unknown[]; totals: { cpuCoreHours: number } }> };
    expect(body.teams.map((t) => t.team)).toEqual(['team-a', 'team-b']);
    expect(body.teams[0]?.series).toHaveLength(30);
    expect(body.teams[0]?.totals.cpuCoreHours).toBe(720);
    expect(prom.queries).toHaveLength(7);
  });

  it('buckets are contiguous, from window.start to window.end, in RFC 3339 UTC without milliseconds', async () => {
    const body = (await (await app(finance).request('/api/v1/cost/teams?window=3d&step=1d')).json()) as {
      window: { start: string; end: string };
      teams: Array<{ series: Array<{ start: string; end: string }> }>;
    };
    expect(body.window).toMatchObject({ start: '2026-11-17T00:00:00Z', end: '2026-11-20T00:00:00Z' });
    for (const { series } of body.teams) {
      expect(series.map((b) => [b.start, b.end])).toEqual([
        ['2026-11-17T00:00:00Z', '2026-11-18T00:00:00Z'],
        ['2026-11-18T00:00:00Z', '2026-11-19T00:00:00Z'],
        ['2026-11-19T00:00:00Z', '2026-11-20T00:00:00Z'],
      ]);
    }
  });

  it('reads the recorded series when the rules cover the window, and says which source answered', async () => {
    type Body = { costSource: string; recordedLevel: string | null; queries: Record<string, string> };
    const raw = fakePrometheus();
    const rawBody = (await (await app(finance, raw).request('/api/v1/cost/teams?window=30d&step=1d')).json()) as Body;
    expect(rawBody).toMatchObject({ costSource: 'raw', recordedLevel: null });
    expect(raw.checks).toHaveLength(1);
    // Both levels recorded: all teams read the per-team series, one team's breakdown the per-service ones.
    const recorded = fakePrometheus({ recorded: ['team', 'service'] });
    const body = (await (await app(finance, recorded).request('/api/v1/cost/teams?window=30d&step=1d')).json()) as Body;
    expect(body).toMatchObject({ costSource: 'recorded', recordedLevel: 'team' });
    expect(recorded.queries).toHaveLength(7);
    for (const q of recorded.queries) expect(Object.values(TEAM_RECORDED_SERIES).some((name) => q.includes(name)), q).toBe(true);
    expect(body.queries['cpuAllocated']).toContain(TEAM_RECORDED_SERIES.cpuAllocated);
    const team = (await (await app(finance, recorded).request('/api/v1/cost/teams/team-a?window=30d&step=1d')).json()) as Body;
    expect(team).toMatchObject({ costSource: 'recorded', recordedLevel: 'service' });
    expect(team.queries['cpuAllocated']).toContain(RECORDED_SERIES.cpuAllocated);
    // Per-service series only (rules from before the per-team ones): all teams sum those.
    const serviceOnly = fakePrometheus({ recorded: ['service'] });
    const fallback = (await (await app(finance, serviceOnly).request('/api/v1/cost/teams?window=30d&step=1d')).json()) as Body;
    expect(fallback).toMatchObject({ costSource: 'recorded', recordedLevel: 'service' });
    expect(fallback.queries['cpuAllocated']).toContain(RECORDED_SERIES.cpuAllocated);
    // Per-team series only cannot answer a breakdown by service: raw.
    const teamOnly = fakePrometheus({ recorded: ['team'] });
    const breakdown = (await (await app(finance, teamOnly).request('/api/v1/cost/teams/team-a?window=30d&step=1d')).json()) as Body;
    expect(breakdown).toMatchObject({ costSource: 'raw', recordedLevel: null });
  });

  it('a team lead sees only their team in the list, and is forbidden from another team', async () => {
    const a = app(lead);
    const list = (await (await a.request('/api/v1/cost/teams')).json()) as { teams: Array<{ team: string }> };
    expect(list.teams.map((t) => t.team)).toEqual(['team-a']);
    expect((await a.request('/api/v1/cost/teams/team-a')).status).toBe(200);
    const other = await a.request('/api/v1/cost/teams/team-b');
    expect(other.status).toBe(403);
    expect(await other.json()).toMatchObject({ code: 'Forbidden', field: 'team' });
  });

  it('no caller is 401', async () => {
    expect((await app(undefined).request('/api/v1/cost/teams')).status).toBe(401);
  });

  it.each([
    ['/api/v1/cost/teams?window=30d&step=7d', 'step'],
    ['/api/v1/cost/teams?window=banana', 'window'],
    ['/api/v1/cost/teams?start=2026-11-01T00:00:00Z&end=2026-12-01T00:00:00Z', 'end'],
    ['/api/v1/cost/teams?start=not-a-date&end=2026-11-02T00:00:00Z', 'start'],
    ['/api/v1/cost/teams/team-a/idle?step=1d', 'step'],
    ['/api/v1/cost/teams/team-a/trend?period=2x', 'period'],
    ['/api/v1/cost/teams/Bad_Name', 'team'],
  ])('%s is a 400 naming %s', async (url, field) => {
    const res = await app(finance).request(url);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; message: string; field: string };
    expect(body).toMatchObject({ code: 'BadRequest', field });
    expect(body.message.length).toBeGreaterThan(5);
  });

  it('an unknown team is a 404 naming it', async () => {
    const res = await app(finance).request('/api/v1/cost/teams/nope/budget');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'NotFound', field: 'team', message: expect.stringContaining('nope') });
  });

  it('Prometheus down is a 503 naming the query that failed', async () => {
    const res = await app(finance, fakePrometheus({ fail: true })).request('/api/v1/cost/teams');
    expect(res.status).toBe(503);
    const body = (await res.json()) as { code: string; metric: string; query: string; message: string };
    expect(body).toMatchObject({ code: 'PrometheusUnavailable' });
    expect(body.message).toContain(body.metric);
    expect(body.query).toMatch(/^sum_over_time/);
  });

  it('a query Prometheus rejects is a 502 naming the metric and its PromQL', async () => {
    const inner = fakePrometheus();
    const rejecting: CostPrometheus = {
      ...inner,
      rangeQuery: async (q, s, e, st) => {
        if (q.includes('container_memory_working_set_bytes') && !q.includes('kube_pod_container_resource_requests')) {
          throw new PrometheusRejectedError('Prometheus query failed: execution: many-to-many matching not allowed');
        }
        return inner.rangeQuery(q, s, e, st);
      },
    };
    const res = await app(finance, rejecting).request('/api/v1/cost/teams');
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ code: 'PrometheusQueryFailed', metric: 'memoryUsed', message: expect.stringContaining('memoryUsed') });
  });

  it('every team of the directory the caller may read is listed, with zeros when it has no samples', async () => {
    const empty: CostPrometheus = { rangeQuery: async () => [], instantQuery: async () => [] };
    const body = (await (await app(finance, empty).request('/api/v1/cost/teams?window=2d&step=1d')).json()) as {
      teams: Array<{ team: string; totals: { totalCost: number }; series: unknown[] }>;
    };
    expect(body.teams.map((t) => t.team)).toEqual(['team-a', 'team-b']);
    for (const t of body.teams) expect(t).toMatchObject({ totals: { totalCost: 0 }, series: [expect.anything(), expect.anything()] });
    const mine = (await (await app(lead, empty).request('/api/v1/cost/teams?window=2d&step=1d')).json()) as { teams: Array<{ team: string }> };
    expect(mine.teams.map((t) => t.team)).toEqual(['team-a']);
  });

  it('CSV with Accept: text/csv: a header row and one row per team and bucket', async () => {
    const res = await app(finance).request('/api/v1/cost/teams?window=7d&step=1d', { headers: { accept: 'text/csv' } });
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await res.text()).trimEnd().split('\r\n');
    expect(lines[0]?.split(',').slice(0, 4)).toEqual(['team', 'start', 'end', 'cpuCoreHours']);
    expect(lines).toHaveLength(1 + 2 * 7);
    const width = lines[0]?.split(',').length;
    for (const l of lines) expect(l.split(',')).toHaveLength(width as number);
  });

  it('every endpoint answers for an allowed team', async () => {
    const a = app(lead);
    for (const path of ['', '/budget', '/trend', '/idle', '/deployments']) {
      const res = await a.request(`/api/v1/cost/teams/team-a${path}`);
      expect(res.status, path).toBe(200);
      const csv = await a.request(`/api/v1/cost/teams/team-a${path}`, { headers: { accept: 'text/csv' } });
      expect((await csv.text()).split('\r\n')[0], path).toMatch(/^team,/);
    }
    const budget = (await (await a.request('/api/v1/cost/teams/team-a/budget')).json()) as { monthlyBudget: number; status: string };
    expect(budget).toMatchObject({ monthlyBudget: 100 });
    const dep = (await (await a.request('/api/v1/cost/teams/team-a/deployments')).json()) as { rollouts: number; costPerDeployment: number };
    expect(dep.rollouts).toBe(4);
  });

  it('a cached repeat of the same window sends no query', async () => {
    const inner = fakePrometheus();
    const cached = withCache(inner, { maxEntries: 50, ttlMs: 60_000 });
    const a = app(finance, cached);
    await a.request('/api/v1/cost/teams?window=30d&step=1d');
    const sent = inner.queries.length;
    await a.request('/api/v1/cost/teams?window=30d&step=1d');
    expect(inner.queries.length).toBe(sent);
  });
});
