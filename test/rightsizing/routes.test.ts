/** The team route of recommendations (JSON and CSV, team-scoped) and the applied requests as a render input. */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { ApiEnv, Caller } from '../../src/access/index.js';
import { appliedRequestsOf, type RecommendationObject } from '../../src/rightsizing/applied.js';
import { createRecommendationRoutes, RECOMMENDATIONS_ROUTE } from '../../src/rightsizing/routes.js';
import { renderDesiredPodTemplate } from '../../src/webservice/render/index.js';
import { FULL, contextFor, webService } from '../webservice/fixtures.js';

const rec = (ns: string, name: string, savings: number, applied?: { cpu?: string; memory?: string }): RecommendationObject => ({
  apiVersion: 'paved.dev/v1alpha1',
  kind: 'Recommendation',
  metadata: { name, namespace: ns },
  spec: { webService: name, mode: 'auto', ...(applied ? { applied: { containers: [{ name: 'app', ...applied }] } } : {}) },
  status: {
    state: 'Recommended', reason: 'NotStable', message: 'stable 3 of 14 days', stableDays: 3, team: ns.split('-')[0]!, currency: 'USD', projectedMonthlySavings: savings,
    containers: [{ name: 'app', current: { cpu: '1', memory: '1Gi' }, recommended: { cpu: '250m', memory: '300Mi' } }],
  },
});
const recs = [rec('team-a-prod', 'api', 12.5), rec('team-a-prod', 'web', 30), rec('team-b-prod', 'api', 99)];
const lead: Caller = { subject: 'alice', groups: ['team-a'], teams: ['team-a'], isPlatformAdmin: false, isFinance: false };

function app(caller: Caller | undefined) {
  const v1 = new Hono<ApiEnv>();
  v1.use('*', async (c, next) => {
    if (caller) c.set('caller', caller);
    await next();
  });
  v1.route(RECOMMENDATIONS_ROUTE, createRecommendationRoutes({ list: () => recs, teamOfNamespace: (ns) => ns.split('-')[0] + '-' + ns.split('-')[1] }));
  return v1;
}

describe('GET /teams/{team}/recommendations', () => {
  it("lists the team's services by savings, with the team total", async () => {
    const res = await app(lead).request('/teams/team-a/recommendations');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { projectedMonthlySavings: number; services: Array<{ webService: string }> };
    expect(body.projectedMonthlySavings).toBe(42.5);
    expect(body.services.map((s) => s.webService)).toEqual(['web', 'api']);
  });
  it('CSV with Accept: text/csv', async () => {
    const res = await app(lead).request('/teams/team-a/recommendations', { headers: { accept: 'text/csv' } });
    const text = await res.text();
    expect(res.headers.get('content-type')).toContain('text/csv');
    expect(text.split('\r\n')[0]).toBe('team,namespace,webService,container,state,reason,currentCpu,recommendedCpu,currentMemory,recommendedMemory,stableDays,projectedMonthlySavings');
    expect(text).toContain('team-a,team-a-prod,web,app,Recommended,NotStable,1,250m,1Gi,300Mi,3,30');
  });
  it("another team's caller is refused; a bad name names the field; no caller is 401", async () => {
    expect((await app(lead).request('/teams/team-b/recommendations')).status).toBe(403);
    const bad = await app(lead).request('/teams/Team_B/recommendations');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ field: 'team' });
    expect((await app(undefined).request('/teams/team-a/recommendations')).status).toBe(401);
  });
});

describe('applied requests as a render input', () => {
  const ws = webService('api', 'team-a-prod', { image: 'ghcr.io/acme/api:1.0.0', runtime: 'go', tier: 'medium' });
  it('replace the requests in the pod template (a new revision), limits follow the tier policy', () => {
    const plain = renderDesiredPodTemplate(ws, contextFor(FULL));
    const applied = appliedRequestsOf(rec('team-a-prod', 'api', 0, { cpu: '120m', memory: '2Gi' }));
    const sized = renderDesiredPodTemplate(ws, contextFor(FULL, { ...(applied ? { rightsizing: applied } : {}) }));
    expect(sized.revision).not.toBe(plain.revision);
    const r = sized.template.spec?.containers[0]?.resources;
    expect(r?.requests).toEqual({ cpu: '120m', memory: '2Gi' });
    // medium's limits are 1 CPU / 1Gi: the memory limit is raised to the request, the CPU limit stays.
    expect(r?.limits).toEqual({ cpu: '1', memory: '2Gi' });
  });
  it('none applied: the spec renders as before', () => {
    expect(appliedRequestsOf(rec('team-a-prod', 'api', 0))).toBeUndefined();
  });
  it('mode set back to off (or recommend) in the WebService: the applied requests are ignored, the spec renders as before', () => {
    const r = rec('team-a-prod', 'api', 0, { cpu: '120m', memory: '2Gi' });
    const plain = renderDesiredPodTemplate(ws, contextFor(FULL));
    for (const mode of ['off', 'recommend'] as const) {
      const off = webService('api', 'team-a-prod', { image: 'ghcr.io/acme/api:1.0.0', runtime: 'go', tier: 'medium', rightsizing: { mode } });
      expect(appliedRequestsOf(r, off)).toBeUndefined();
      const applied = appliedRequestsOf(r, off);
      expect(renderDesiredPodTemplate(off, contextFor(FULL, { ...(applied ? { rightsizing: applied } : {}) })).template.spec?.containers[0]?.resources).toEqual(plain.template.spec?.containers[0]?.resources);
    }
    const auto = webService('api', 'team-a-prod', { image: 'ghcr.io/acme/api:1.0.0', runtime: 'go', tier: 'medium', rightsizing: { mode: 'auto' } });
    expect(appliedRequestsOf(r, auto)).toEqual({ app: { cpu: '120m', memory: '2Gi' } });
    // No mode of its own (the team's or platform's): the engine's record of the mode decides.
    expect(appliedRequestsOf(r, ws)).toEqual({ app: { cpu: '120m', memory: '2Gi' } });
    expect(appliedRequestsOf({ spec: { ...r.spec, mode: 'recommend' } }, ws)).toBeUndefined();
  });
});
