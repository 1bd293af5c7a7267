/**
 * GET /api/v1/teams/{team}/recommendations on the real API server with OIDC (test/support/oidc-api.ts),
 * over Recommendations the engine wrote into two teams' namespaces from a real Prometheus (history
 * backfilled with promtool): a member of a team reads its own team's, as JSON and as CSV, and is refused
 * another team's; the other team's member sees only theirs; without a token, nothing.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCostPrometheus } from '../../src/cost/prometheus.js';
import { EventRecorder, KubeClients, createInformer, createInformerFactory, type Informer } from '../../src/kube/index.js';
import type { RecommendationObject } from '../../src/rightsizing/applied.js';
import { RightsizingEngine } from '../../src/rightsizing/engine.js';
import { rightsizingMetrics } from '../../src/rightsizing/metrics.js';
import { RECOMMENDATIONS_ROUTE, createRecommendationRoutes, type TeamRecommendations } from '../../src/rightsizing/routes.js';
import { DEFAULT_SETTINGS } from '../../src/rightsizing/types.js';
import { ERROR_RATE_QUERY, P99_QUERY, SLOW } from '../delivery/stack.js';
import { adminKubeConfig, uniqueName } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { startOidcApi, type OidcApi } from '../support/oidc-api.js';
import { startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.js';
import { startPrometheus, type LocalPrometheus } from '../support/prometheus.js';
import { rightsizingHistory, type ServiceHistory } from '../support/rightsizing-history.js';
import { applyWebService, createTeamNamespace, startController } from '../webservice/harness.js';

const API = 'paved.dev/v1alpha1';
const GIB = 2 ** 30;
const admin = KubeClients.fromKubeConfig(adminKubeConfig());
const logger = pino({ level: 'silent' });
const END = Math.floor(Date.now() / 60_000) * 60 - 60;
const teamA = uniqueName('rs-api-a');
const teamB = uniqueName('rs-api-b');
let nsA = '';
let nsB = '';
let issuer: OidcIssuer;
let prom: LocalPrometheus;
let api: OidcApi;
const stops: Array<() => Promise<void>> = [];

const history = (namespace: string, cpu: number, memory: number): ServiceHistory => ({
  namespace,
  service: 'shop',
  cpu: () => cpu,
  memory: () => memory,
  cpuRequest: 1,
  memoryRequest: GIB,
  memoryLimit: GIB,
  days: 15,
  extras: false,
});

async function createTeam(name: string, group: string): Promise<void> {
  await admin.request({
    method: 'POST',
    path: '/apis/paved.dev/v1alpha1/teams',
    body: { apiVersion: API, kind: 'Team', metadata: { name }, spec: { owners: { groups: [group] }, costCenter: 'cc-test', quota: { tier: 'small' } } },
  });
}

/** A WebService `shop` in recommend mode (1 CPU / 1 GiB) and one engine run that writes its Recommendation. */
async function recommended(namespace: string): Promise<RecommendationObject> {
  const controller = await startController(namespace);
  stops.push(() => controller.stop());
  await applyWebService({
    apiVersion: API,
    kind: 'WebService',
    metadata: { name: 'shop', namespace },
    spec: { image: 'ghcr.io/acme/shop:1.0.0', runtime: 'go', scaling: { minReplicas: 1, maxReplicas: 1 }, overrides: { resources: { requests: { cpu: '1', memory: '1Gi' } } }, rightsizing: { mode: 'recommend' } },
  } as never);
  const engine = new RightsizingEngine({
    clients: admin,
    informers: createInformerFactory({ clients: admin, logger }),
    prometheus: createCostPrometheus({ url: prom.url, timeoutMs: 30_000 }),
    events: new EventRecorder(admin, { logger }),
    metrics: rightsizingMetrics(new Registry()),
    logger,
    settings: DEFAULT_SETTINGS,
    namespace,
    watchTemplates: { latency: P99_QUERY, errorRate: ERROR_RATE_QUERY },
  });
  await Promise.all(engine.informers().map((i) => i.start()));
  await Promise.all(engine.informers().map((i) => i.waitForSync(60_000)));
  stops.push(async () => void (await Promise.all(engine.informers().map((i) => i.stop()))));
  let rec: RecommendationObject | undefined;
  await eventually(async () => {
    await engine.run();
    rec = await admin.get<RecommendationObject>({ apiVersion: API, kind: 'Recommendation', namespace, name: 'shop' });
    expect(rec?.status?.state).toBe('Recommended');
  }, SLOW);
  return rec!;
}

let recA: RecommendationObject;
let recB: RecommendationObject;
/** What the route's cache holds: every Recommendation in the cluster, as main.ts's engine cache does. */
let recommendations: Informer<RecommendationObject>;

beforeAll(async () => {
  nsA = await createTeamNamespace('rs-api-a', teamA);
  nsB = await createTeamNamespace('rs-api-b', teamB);
  await createTeam(teamA, `${teamA}-devs`);
  await createTeam(teamB, `${teamB}-devs`);
  prom = await startPrometheus({ backfillOpenMetrics: rightsizingHistory([history(nsA, 0.25, 0.25 * GIB), history(nsB, 0.1, 0.5 * GIB)], { endSeconds: END, resolutionSeconds: 150 }) });
  recA = await recommended(nsA);
  recB = await recommended(nsB);

  const teams = createInformer<KubernetesObject>({ clients: admin, apiVersion: API, kind: 'Team' });
  const namespaces = createInformer<KubernetesObject>({ clients: admin, apiVersion: 'v1', kind: 'Namespace', labelSelector: 'paved.dev/team' });
  const webServices = createInformer<KubernetesObject>({ clients: admin, apiVersion: API, kind: 'WebService' });
  recommendations = createInformer<RecommendationObject>({ clients: admin, apiVersion: API, kind: 'Recommendation' });
  const informers = [teams, namespaces, webServices, recommendations] as Array<Informer<KubernetesObject>>;
  await Promise.all(informers.map((i) => i.start()));
  await Promise.all(informers.map((i) => i.waitForSync(60_000)));
  stops.push(async () => void (await Promise.all(informers.map((i) => i.stop()))));
  const teamOfNamespace = (ns: string): string | undefined => namespaces.getByName(ns)?.metadata?.labels?.['paved.dev/team'];
  issuer = await startOidcIssuer();
  api = await startOidcApi({
    issuer,
    sources: { teams, namespaces, webServices },
    extra: { routes: [{ path: RECOMMENDATIONS_ROUTE, app: createRecommendationRoutes({ list: () => recommendations.list(), teamOfNamespace }) }] },
  });
  stops.push(() => api.stop());
  // The caches have both Recommendations and both Teams.
  await eventually(async () => {
    expect(recommendations.getByName('shop', nsA)?.status?.state).toBe('Recommended');
    expect(recommendations.getByName('shop', nsB)?.status?.state).toBe('Recommended');
    expect(teams.getByName(teamA) && teams.getByName(teamB)).toBeDefined();
  }, SLOW);
}, 600_000);

afterAll(async () => {
  for (const s of stops.reverse()) await s().catch(() => undefined);
  await prom?.stop();
  await issuer?.stop();
  for (const t of [teamA, teamB]) await admin.delete({ apiVersion: API, kind: 'Team', name: t }).catch(() => undefined);
});

async function get(team: string, opts: { as?: string; csv?: boolean } = {}): Promise<Response> {
  const headers: Record<string, string> = opts.csv ? { accept: 'text/csv' } : {};
  if (opts.as) headers['authorization'] = `Bearer ${await issuer.mint({ subject: opts.as, groups: [`${opts.as === 'alice' ? teamA : teamB}-devs`] })}`;
  return fetch(`${api.server.url}/api/v1/teams/${team}/recommendations`, { headers });
}

describe('GET /api/v1/teams/{team}/recommendations (real API server, OIDC)', () => {
  it("a team member reads the team's recommendations as JSON: current vs recommended, state, savings per service and for the team", async () => {
    const res = await get(teamA, { as: 'alice' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as TeamRecommendations;
    expect(body.team).toBe(teamA);
    expect(body.services.map((s) => `${s.namespace}/${s.webService}`)).toEqual([`${nsA}/shop`]);
    const [s] = body.services;
    const c = recA.status?.containers?.[0];
    expect(s).toMatchObject({ mode: 'recommend', state: 'Recommended', reason: 'RecommendOnly', daysNeeded: 14, projectedMonthlySavings: recA.status?.projectedMonthlySavings });
    expect(s?.containers).toEqual([{ name: 'app', current: { cpu: '1', memory: '1Gi' }, recommended: c?.recommended, notes: [] }]);
    expect(s?.projectedMonthlySavings).toBeGreaterThan(0);
    expect(body.projectedMonthlySavings).toBe(recA.status?.projectedMonthlySavings);
    expect(body.currency).toBe(recA.status?.currency);
  });

  it('the same as CSV with Accept: text/csv, one row per container', async () => {
    const res = await get(teamA, { as: 'alice', csv: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toContain(`recommendations-${teamA}.csv`);
    const lines = (await res.text()).trim().split(/\r?\n/);
    expect(lines[0]).toBe('team,namespace,webService,container,state,reason,currentCpu,recommendedCpu,currentMemory,recommendedMemory,stableDays,projectedMonthlySavings');
    const c = recA.status?.containers?.[0];
    expect(lines.slice(1)).toEqual([
      [teamA, nsA, 'shop', 'app', 'Recommended', 'RecommendOnly', '1', c?.recommended?.cpu, '1Gi', c?.recommended?.memory, recA.status?.stableDays, recA.status?.projectedMonthlySavings].join(','),
    ]);
  });

  it("another team's member is refused (JSON and CSV) and sees only their own team's", async () => {
    for (const csv of [false, true]) {
      const refused = await get(teamA, { as: 'bob', csv });
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ code: 'Forbidden', field: 'team' });
    }
    const own = (await (await get(teamB, { as: 'bob' })).json()) as TeamRecommendations;
    expect(own.services.map((s) => `${s.namespace}/${s.webService}`)).toEqual([`${nsB}/shop`]);
    expect(own.services[0]?.containers[0]?.recommended).toEqual(recB.status?.containers?.[0]?.recommended);
    const ownCsv = await (await get(teamB, { as: 'bob', csv: true })).text();
    expect(ownCsv).not.toContain(nsA);
    expect(ownCsv).toContain(nsB);
    expect((await get(teamB, { as: 'alice' })).status).toBe(403);
  });

  it('without a token: 401', async () => {
    expect((await get(teamA)).status).toBe(401);
  });
});
