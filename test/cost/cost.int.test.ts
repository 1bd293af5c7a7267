/**
 * The cost API against a real Prometheus holding 35 days of backfilled synthetic history
 * (test/support/cost-history.ts). Every figure is compared with a hand computation from the
 * generated shapes (test/cost/hand-computation.ts) within 0.5%.
 */
import { Hono } from 'hono';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCostRoutes } from '../../src/cost/routes.js';
import { createCostService, type CostService } from '../../src/cost/service.js';
import { createCostPrometheus, withCache, type QueryStats } from '../../src/cost/prometheus.js';
import { staticTeamDirectory, type TeamInfo } from '../../src/cost/teams.js';
import type { ApiEnv, Caller } from '../../src/access/index.js';
import { costHistoryOpenMetrics, standardCostHistory, STANDARD_END } from '../support/cost-history.js';
import { expectClose, expectLineClose } from '../support/cost-assertions.js';
import { startPrometheus } from '../support/prometheus.js';
import { handCost, handQuantities, handRollouts, PRICES, sumHand, type HandQuantities } from './hand-computation.js';

const history = standardCostHistory();
const DAY = 86_400;
const END = STANDARD_END; // 2026-11-20T00:00:00Z
const NOW = new Date((END + 25 * 60) * 1000); // 00:25 on the day the history ends
const TEAMS = ['cost-alpha', 'cost-beta', 'cost-gamma'];

const finance: Caller = { subject: 'carol', groups: ['paved:finance'], teams: [], isPlatformAdmin: false, isFinance: true };

let url = '';
let stats: QueryStats;
let service: CostService;
let app: Hono<ApiEnv>;

/** Hand figures: projected month-end per team (for the budgets below). */
function handBurn(team: string): { mtd: number; week: number; projected: number } {
  const monthStart = Date.UTC(2026, 10, 1) / 1000;
  const one = (start: number) => handCost(sumHand(handQuantities(history, { startSeconds: start, endSeconds: END, key: (c) => c.team, team }).get(team) ?? []));
  const mtd = one(monthStart);
  const week = one(END - 7 * DAY);
  return { mtd, week, projected: mtd + (week / 7) * 11 };
}

function build(teams: TeamInfo[]): void {
  stats = { sent: 0 };
  service = createCostService({
    // Prometheus 2.42 takes tens of seconds for a cold 30-day service breakdown on this shared machine
    // (3.x about one); the figures, not the latency, are under test here.
    prometheus: withCache(createCostPrometheus({ url, stats, timeoutMs: 120_000 }), { maxEntries: 100, ttlMs: 60_000 }),
    teams: staticTeamDirectory(teams),
    now: () => NOW,
  });
  app = new Hono<ApiEnv>();
  app.use('*', async (c, next) => {
    c.set('caller', finance);
    await next();
  });
  app.route('/', createCostRoutes({ cost: service }));
}

const budgets: Record<string, number> = {};

beforeAll(async () => {
  const prom = await startPrometheus({ backfillOpenMetrics: costHistoryOpenMetrics(history) });
  url = prom.url;
  // Budgets placed around the thresholds: alpha at 79% (ok), beta at 85% (warning), gamma at 105% (over).
  budgets['cost-alpha'] = handBurn('cost-alpha').projected / 0.79;
  budgets['cost-beta'] = handBurn('cost-beta').projected / 0.85;
  budgets['cost-gamma'] = handBurn('cost-gamma').projected / 1.05;
  build(TEAMS.map((name) => ({ name, monthlyBudget: budgets[name] })));
});

const closeLine = (line: Record<string, unknown>, q: HandQuantities, what: string): void => expectLineClose(line, q, what, ['storage']);

async function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return app.request(path, { headers });
}

describe('cost API on backfilled history', () => {
  it('all teams, 30 days by day: every bucket equals the hand computation; namespaces of no team are left out', async () => {
    stats.sent = 0;
    const res = await get('/cost/teams?window=30d&step=1d');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { teams: Array<{ team: string; totals: Record<string, unknown>; series: Array<Record<string, unknown>> }>; totals: Record<string, unknown> };
    // One query per metric, for all teams at once, plus the check for recorded series (none here: raw).
    expect(stats.sent).toBe(8);
    expect((body as { costSource?: string }).costSource).toBe('raw');
    expect(body.teams.map((t) => t.team)).toEqual(TEAMS);
    const hand = handQuantities(history, { startSeconds: END - 30 * DAY, endSeconds: END, stepSeconds: DAY, key: (c) => c.team });
    for (const t of body.teams) {
      const buckets = hand.get(t.team) ?? [];
      expect(t.series).toHaveLength(30);
      t.series.forEach((b, i) => closeLine(b, buckets[i] as HandQuantities, `${t.team} day ${i}`));
      closeLine(t.totals, sumHand(buckets), `${t.team} total`);
    }
    closeLine(body.totals, sumHand([...hand.values()].flat()), 'all teams');
    // A repeat is served from the cache.
    stats.sent = 0;
    await get('/cost/teams?window=30d&step=1d');
    expect(stats.sent).toBe(0);
  });

  it('explicit RFC 3339 start/end with a 12h step', async () => {
    const start = new Date((END - 3 * DAY) * 1000).toISOString();
    const end = new Date(END * 1000).toISOString();
    const res = await get(`/cost/teams?start=${start}&end=${end}&step=12h`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { teams: Array<{ team: string; series: Array<Record<string, unknown>> }> };
    const hand = handQuantities(history, { startSeconds: END - 3 * DAY, endSeconds: END, stepSeconds: DAY / 2, key: (c) => c.team });
    for (const t of body.teams) {
      expect(t.series).toHaveLength(6);
      t.series.forEach((b, i) => closeLine(b, (hand.get(t.team) ?? [])[i] as HandQuantities, `${t.team} half-day ${i}`));
    }
  });

  it('one team by environment, service and resource, with a daily series adding up to the total', async () => {
    const res = await get('/cost/teams/cost-alpha?window=30d&step=1d');
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      totals: Record<string, unknown>;
      series: Array<Record<string, unknown>>;
      byEnvironment: Array<{ environment: string; totals: Record<string, unknown> }>;
      byService: Array<{ environment: string; namespace: string; service: string; totals: Record<string, unknown>; series: unknown[] }>;
      byResource: { cpu: { cost: number }; memory: { cost: number }; storage: { cost: number } };
    };
    const win = { startSeconds: END - 30 * DAY, endSeconds: END, team: 'cost-alpha' };
    const byService = handQuantities(history, { ...win, key: (c) => `${c.namespace}/${c.service}` });
    expect(body.byService.map((s) => `${s.namespace}/${s.service}`)).toEqual([...byService.keys()].sort());
    for (const s of body.byService) {
      closeLine(s.totals, sumHand(byService.get(`${s.namespace}/${s.service}`) ?? []), `service ${s.namespace}/${s.service}`);
      expect(s.series).toHaveLength(30);
    }
    const byEnv = handQuantities(history, { ...win, key: (c) => c.environment });
    expect(body.byEnvironment.map((e) => e.environment)).toEqual(['dev', 'prod']);
    for (const e of body.byEnvironment) closeLine(e.totals, sumHand(byEnv.get(e.environment) ?? []), `env ${e.environment}`);
    const total = sumHand(handQuantities(history, { ...win, key: (c) => c.team }).get('cost-alpha') ?? []);
    closeLine(body.totals, total, 'cost-alpha total');
    expectClose(body.byResource.cpu.cost, total.cpuAllocated * PRICES.cpuCoreHour, 'cpu cost');
    expectClose(body.byResource.memory.cost, total.memoryAllocated * PRICES.memoryGiBHour, 'memory cost');
    const seriesSum = body.series.reduce((s, b) => s + (b['totalCost'] as number), 0);
    expectClose(seriesSum, body.totals['totalCost'] as number, 'series adds up');
    // The same figure as in the all-teams view (totals that agree between views).
    const all = (await (await get('/cost/teams?window=30d&step=1d')).json()) as { teams: Array<{ team: string; totals: { totalCost: number } }> };
    expectClose(body.totals['totalCost'] as number, all.teams.find((t) => t.team === 'cost-alpha')?.totals.totalCost ?? -1, 'views agree');
  });

  it('agrees with an independently written reference query (hourly points summed outside PromQL)', async () => {
    // cost-beta's CPU and memory allocation: request + max(usage - request, 0) per container, one
    // instant value per hour, summed here. No subquery, no label_replace, no join: the namespace is
    // the team's.
    const cpu =
      'sum(sum by (pod, container) (avg_over_time(kube_pod_container_resource_requests{namespace="cost-beta",resource="cpu"}[1h]))' +
      ' + clamp_min(sum by (pod, container) (rate(container_cpu_usage_seconds_total{namespace="cost-beta"}[1h]))' +
      ' - sum by (pod, container) (avg_over_time(kube_pod_container_resource_requests{namespace="cost-beta",resource="cpu"}[1h])), 0))';
    const mem =
      'sum(sum by (pod, container) (avg_over_time(kube_pod_container_resource_requests{namespace="cost-beta",resource="memory"}[1h]))' +
      ' + clamp_min(sum by (pod, container) (avg_over_time(container_memory_working_set_bytes{namespace="cost-beta"}[1h]))' +
      ' - sum by (pod, container) (avg_over_time(kube_pod_container_resource_requests{namespace="cost-beta",resource="memory"}[1h])), 0)) / 1024^3';
    const hourlySum = async (q: string): Promise<number> => {
      const params = new URLSearchParams({ query: q, start: String(END - 30 * DAY + 3600), end: String(END), step: '3600' });
      const r = (await (await fetch(`${url}/api/v1/query_range?${params.toString()}`)).json()) as { data: { result: Array<{ values: Array<[number, string]> }> } };
      const values = r.data.result[0]?.values ?? [];
      expect(values).toHaveLength(720);
      return values.reduce((s, [, v]) => s + Number(v), 0);
    };
    const [cpuHours, memHours] = await Promise.all([hourlySum(cpu), hourlySum(mem)]);
    const body = (await (await get('/cost/teams/cost-beta?window=30d&step=1d')).json()) as { totals: { cpuCoreHours: number; memoryGiBHours: number; totalCost: number } };
    expectClose(body.totals.cpuCoreHours, cpuHours, 'reference cpu');
    expectClose(body.totals.memoryGiBHours, memHours, 'reference memory');
    expectClose(body.totals.totalCost, cpuHours * PRICES.cpuCoreHour + memHours * PRICES.memoryGiBHour, 'reference cost');
  });

  it('burn rate and projected month end against the budget: ok, warning and over at the right thresholds', async () => {
    const expected: Record<string, string> = { 'cost-alpha': 'ok', 'cost-beta': 'warning', 'cost-gamma': 'over' };
    for (const team of TEAMS) {
      const body = (await (await get(`/cost/teams/${team}/budget`)).json()) as Record<string, number | string>;
      const hand = handBurn(team);
      expectClose(body['monthToDateCost'] as number, hand.mtd, `${team} mtd`);
      expectClose(body['burnRatePerDay'] as number, hand.week / 7, `${team} burn`);
      expectClose(body['projectedMonthEndCost'] as number, hand.projected, `${team} projected`);
      expect(body['remainingDays']).toBe(11);
      expect(body['status'], team).toBe(expected[team]);
    }
  });

  it('trend week over week', async () => {
    const body = (await (await get('/cost/teams/cost-gamma/trend')).json()) as { total: { current: number; previous: number; changeRatio: number; direction: string } };
    const week = (end: number) => handCost(sumHand(handQuantities(history, { startSeconds: end - 7 * DAY, endSeconds: end, key: (c) => c.team, team: 'cost-gamma' }).get('cost-gamma') ?? []));
    const cur = week(END);
    const prev = week(END - 7 * DAY);
    expectClose(body.total.current, cur, 'this week');
    expectClose(body.total.previous, prev, 'last week');
    expect(body.total.direction).toBe('up'); // the request doubled on day 28
    expect(body.total.changeRatio).toBeCloseTo((cur - prev) / prev, 3);
  });

  it('idle resources: exactly the services under 10% CPU over 7 days, with their savings at usage', async () => {
    const body = (await (await get('/cost/idle')).json()) as { idle: Array<{ namespace: string; service: string; savings: number; cpuUtilisation: number }>; servicesExamined: number };
    expect(body.idle.map((s) => `${s.namespace}/${s.service}`).sort()).toEqual(['cost-alpha-dev/api', 'cost-beta/batch']);
    expect(body.servicesExamined).toBe(7);
    const hand = handQuantities(history, { startSeconds: END - 7 * DAY, endSeconds: END, key: (c) => `${c.namespace}/${c.service}` });
    for (const s of body.idle) {
      const q = sumHand(hand.get(`${s.namespace}/${s.service}`) ?? []);
      const savings = (q.cpuAllocated - q.cpuUsed) * PRICES.cpuCoreHour + (q.memoryAllocated - q.memoryUsed) * PRICES.memoryGiBHour;
      expectClose(s.savings, savings, `savings ${s.service}`);
      expectClose(s.cpuUtilisation, q.cpuUsed / q.cpuRequested, `utilisation ${s.service}`);
    }
    const team = (await (await get('/cost/teams/cost-beta/idle')).json()) as { idle: Array<{ service: string }> };
    expect(team.idle.map((s) => s.service)).toEqual(['batch']);
  });

  it('cost per deployment from the rollouts counter', async () => {
    const alpha = (await (await get('/cost/teams/cost-alpha/deployments?window=30d')).json()) as { cost: number; rollouts: number; costPerDeployment: number };
    const rollouts = handRollouts(history, END - 30 * DAY, END, 'cost-alpha');
    expect(rollouts).toBe(10);
    expect(alpha.rollouts).toBe(rollouts);
    const cost = handCost(sumHand(handQuantities(history, { startSeconds: END - 30 * DAY, endSeconds: END, key: (c) => c.team, team: 'cost-alpha' }).get('cost-alpha') ?? []));
    expectClose(alpha.costPerDeployment, cost / rollouts, 'cost per deployment');
    const beta = (await (await get('/cost/teams/cost-beta/deployments')).json()) as { rollouts: number };
    expect(beta.rollouts).toBe(handRollouts(history, END - 30 * DAY, END, 'cost-beta'));
    const gamma = (await (await get('/cost/teams/cost-gamma/deployments')).json()) as { rollouts: number; costPerDeployment: number | null };
    expect(gamma).toMatchObject({ rollouts: 0, costPerDeployment: null });
  });

  it('CSV opens as a table with a header row and the JSON figures', async () => {
    const res = await get('/cost/teams/cost-alpha?window=7d&step=1d', { accept: 'text/csv' });
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = (await res.text()).trimEnd().split('\r\n').map((l) => l.split(','));
    const header = rows[0] ?? [];
    expect(header.slice(0, 6)).toEqual(['team', 'environment', 'namespace', 'service', 'start', 'end']);
    const body = rows.slice(1);
    expect(body).toHaveLength(3 * 7); // three services, seven days
    for (const r of body) expect(r).toHaveLength(header.length);
    const col = header.indexOf('totalCost');
    const csvTotal = body.reduce((s, r) => s + Number(r[col]), 0);
    const json = (await (await get('/cost/teams/cost-alpha?window=7d&step=1d')).json()) as { totals: { totalCost: number } };
    expectClose(csvTotal, json.totals.totalCost, 'csv total');
  });

  it('invalid input: 400 or 404 naming the problem', async () => {
    const cases: Array<[string, number, string]> = [
      ['/cost/teams?window=30d&step=7d', 400, 'step'],
      ['/cost/teams?window=thirty', 400, 'window'],
      ['/cost/teams?start=2026-11-19T00:00:00Z&end=2026-11-21T00:00:00Z&step=1d', 400, 'end'],
      ['/cost/teams?start=2026-11-19T00:00:00Z&end=2026-11-18T00:00:00Z', 400, 'end'],
      ['/cost/teams/nobody', 404, 'team'],
      ['/cost/teams/nobody/budget', 404, 'team'],
    ];
    for (const [path, status, field] of cases) {
      const res = await get(path);
      expect(res.status, path).toBe(status);
      const body = (await res.json()) as { code: string; message: string; field: string };
      expect(body.field, path).toBe(field);
      expect(body.message, path).not.toBe('');
    }
  });
});
