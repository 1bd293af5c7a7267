/**
 * REST routes through `app.request()` (no server) with real OIDC tokens from a loopback issuer:
 * authentication failures, team scoping, intent validation, impersonated writes, audit lines,
 * extra route modules, OpenAPI and the health endpoints.
 */
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCostRoutes } from '../../src/cost/routes.js';
import type { CostService } from '../../src/cost/service.js';
import { DEFAULT_PRICING } from '../../src/cost/pricing.js';
import { createOidcVerifier, type AuthMode } from '../../src/server/auth.js';
import type { ApiEnv } from '../../src/access/index.js';
import { startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.js';
import { buildApp, webService, world, type TestApp } from './fixtures.js';

let issuer: OidcIssuer;
let auth: AuthMode;

beforeAll(async () => {
  issuer = await startOidcIssuer({ audience: 'paved-api' });
  auth = { kind: 'oidc', verifier: createOidcVerifier({ issuer: issuer.issuer, audience: issuer.audience }) };
});
afterAll(async () => {
  await issuer.stop();
});

async function call(t: TestApp, method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = {};
  if (token) headers['authorization'] = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await t.app.request(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

function setup(): TestApp & ReturnType<typeof world> {
  const w = world();
  w.webServices.upsert(webService('team-a', 'shop'));
  w.webServices.upsert(webService('team-b-dev', 'billing'));
  return { ...w, ...buildApp({ sources: w.sources, auth }) };
}

const alice = (): Promise<string> => issuer.mint({ subject: 'alice', groups: ['team-a'] });
const bob = (): Promise<string> => issuer.mint({ subject: 'bob', groups: ['team-b'] });

describe('authentication', () => {
  it('rejects a missing, expired, mis-signed, wrong-audience or wrong-issuer token with 401', async () => {
    const t = setup();
    const cases: Array<[string, string | undefined]> = [
      ['missing', undefined],
      ['expired', await issuer.mint({ subject: 'alice', groups: ['team-a'], expiresInSeconds: -120 })],
      ['mis-signed', await issuer.mint({ subject: 'alice', groups: ['team-a'], wrongKey: true })],
      ['wrong audience', await issuer.mint({ subject: 'alice', groups: ['team-a'], audience: 'someone-else' })],
      ['wrong issuer', await issuer.mint({ subject: 'alice', groups: ['team-a'], issuer: 'https://evil.example' })],
      ['garbage', 'not-a-jwt'],
    ];
    for (const [name, token] of cases) {
      const res = await call(t, 'GET', '/api/v1/teams', token);
      expect(res.status, name).toBe(401);
      expect(res.json.code, name).toBe('Unauthenticated');
      expect(typeof res.json.message).toBe('string');
    }
    const expired = await call(t, 'GET', '/api/v1/teams', cases[1]?.[1]);
    expect(expired.json.message).toMatch(/expired/);
  });

  it('accepts a valid token and resolves teams from the groups claim', async () => {
    const t = setup();
    const res = await call(t, 'GET', '/api/v1/me', await alice());
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ subject: 'alice', groups: ['team-a'], teams: ['team-a'], isPlatformAdmin: false });
  });

  it('reads a nested groups claim when configured', async () => {
    const w = world();
    const nested: AuthMode = {
      kind: 'oidc',
      verifier: createOidcVerifier({ issuer: issuer.issuer, audience: issuer.audience, groupsClaim: 'realm.groups' }),
    };
    const t = buildApp({ sources: w.sources, auth: nested });
    const token = await issuer.mint({ subject: 'bob', groups: ['team-b'], groupsClaim: 'realm' });
    // `realm` holds an array here, so `realm.groups` is absent: no groups, no teams.
    const res = await call(t, 'GET', '/api/v1/me', token);
    expect(res.status).toBe(200);
    expect(res.json.teams).toEqual([]);
  });
});

describe('team scoping', () => {
  it('lists only the caller\'s teams; admins and finance see all', async () => {
    const t = setup();
    expect((await call(t, 'GET', '/api/v1/teams', await alice())).json.items.map((x: any) => x.name)).toEqual(['team-a']);
    const admin = await issuer.mint({ subject: 'root', groups: ['paved:platform-admins'] });
    expect((await call(t, 'GET', '/api/v1/teams', admin)).json.items.map((x: any) => x.name)).toEqual(['team-a', 'team-b']);
    const finance = await issuer.mint({ subject: 'carol', groups: ['paved:finance'] });
    expect((await call(t, 'GET', '/api/v1/teams', finance)).json.items).toHaveLength(2);
    const b = (await call(t, 'GET', '/api/v1/teams/team-b', admin)).json;
    expect(b.namespaces).toEqual(['team-b-dev', 'team-b-prod']);
  });

  it('answers 403 when a team-b token reads or acts on team-a', async () => {
    const t = setup();
    const token = await bob();
    const attempts: Array<[string, string, unknown?]> = [
      ['GET', '/api/v1/teams/team-a'],
      ['GET', '/api/v1/teams/team-a/webservices'],
      ['GET', '/api/v1/teams/team-a/violations'],
      ['GET', '/api/v1/namespaces/team-a/webservices/shop'],
      ['POST', '/api/v1/namespaces/team-a/webservices', { name: 'x', image: 'ghcr.io/acme/x:1' }],
      ['PUT', '/api/v1/namespaces/team-a/webservices/shop', { image: 'ghcr.io/acme/x:2' }],
      ['DELETE', '/api/v1/namespaces/team-a/webservices/shop'],
      ['POST', '/api/v1/namespaces/team-a/webservices/shop/promote', {}],
      ['POST', '/api/v1/namespaces/team-a/webservices/preview', { name: 'x', image: 'ghcr.io/acme/x:1' }],
    ];
    for (const [method, path, body] of attempts) {
      const res = await call(t, method, path, token, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.json.code).toBe('Forbidden');
    }
    expect(t.writer.writes).toHaveLength(0);
    // Finance reads every team but changes none.
    const finance = await issuer.mint({ subject: 'carol', groups: ['paved:finance'] });
    expect((await call(t, 'GET', '/api/v1/teams/team-a/webservices', finance)).status).toBe(200);
    expect((await call(t, 'DELETE', '/api/v1/namespaces/team-a/webservices/shop', finance)).status).toBe(403);
  });

  it('lists a team\'s services with intent and reality', async () => {
    const t = setup();
    const res = await call(t, 'GET', '/api/v1/teams/team-a/webservices', await alice());
    expect(res.status).toBe(200);
    expect(res.json.items).toHaveLength(1);
    expect(res.json.items[0]).toMatchObject({ key: 'team-a/shop', team: 'team-a', intent: { image: 'ghcr.io/acme/app:1.0.0', generation: 1 } });
    expect(res.json.items[0].reality.converged).toBe(false);
  });
});

describe('service reads', () => {
  it('shows one service with rollout state and history, and the team\'s policy violations', async () => {
    const w = world();
    w.webServices.upsert(
      webService('team-a', 'shop', {
        generation: 3,
        status: {
          observedGeneration: 3,
          inventory: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'shop', ready: true }],
          policy: { violations: [{ policy: 'no-latest-tag', object: 'Deployment/shop', field: 'spec.template.spec.containers[0].image', message: 'tag latest', mode: 'audit' }] },
          rollout: { phase: 'RolledBack', stableRevision: 'r1', canaryRevision: 'r2', stepIndex: 1, weight: 0, attempt: 0, failure: { reason: 'AnalysisFailed', metric: 'error-rate', value: 0.2 }, history: [{ id: 'r2-1-0', phase: 'Failed', metrics: [] }] },
        },
      }),
    );
    const t = buildApp({ sources: w.sources, auth });
    const token = await alice();
    const one = await call(t, 'GET', '/api/v1/namespaces/team-a/webservices/shop', token);
    expect(one.status).toBe(200);
    expect(one.json.rolloutHistory).toEqual([{ id: 'r2-1-0', phase: 'Failed', metrics: [] }]);
    expect(one.json.rollout).toMatchObject({ phase: 'RolledBack', failure: { reason: 'AnalysisFailed' } });
    expect(one.json.view.reality).toMatchObject({ phase: 'RolledBack', converged: false, failure: { metric: 'error-rate', value: 0.2 } });
    expect(one.json.inventory).toHaveLength(1);
    expect((await call(t, 'GET', '/api/v1/namespaces/team-a/webservices/nope', token)).status).toBe(404);
    const violations = await call(t, 'GET', '/api/v1/teams/team-a/violations', token);
    expect(violations.json.items).toEqual([
      { namespace: 'team-a', service: 'shop', policy: 'no-latest-tag', object: 'Deployment/shop', field: 'spec.template.spec.containers[0].image', message: 'tag latest', mode: 'audit' },
    ]);
  });
});

describe('writes', () => {
  it('rejects an invalid intent with 400 naming the field, and writes nothing', async () => {
    const t = setup();
    const token = await alice();
    const cases: Array<[unknown, string]> = [
      [{ name: 'shop2' }, 'image'],
      [{ name: 'Bad_Name', image: 'x:1' }, 'name'],
      [{ name: 'ok', image: 'x:1', scaling: { minReplicas: 5, maxReplicas: 2 } }, 'scaling.minReplicas'],
      [{ name: 'ok', image: 'x:1', runtime: 'cobol' }, 'runtime'],
      [{ name: 'ok', image: 'x:1', networking: { visibility: 'public' } }, 'networking.host'],
      [{ name: 'ok', image: 'x:1', imagee: 'typo' }, 'imagee'],
      [{ name: 'ok', image: 'x:1', scaling: { minReplica: 1 } }, 'scaling.minReplica'],
      [{ name: 'ok', image: 'x:1', port: 70000 }, 'port'],
    ];
    for (const [body, field] of cases) {
      const res = await call(t, 'POST', '/api/v1/namespaces/team-a/webservices', token, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.code).toBe('InvalidSpec');
      expect(res.json.field, JSON.stringify(body)).toBe(field);
    }
    expect(t.writer.writes).toHaveLength(0);
  });

  it('creates as the caller (identity passed to the writer) and writes an audit line', async () => {
    const t = setup();
    const res = await call(t, 'POST', '/api/v1/namespaces/team-a/webservices', await alice(), {
      name: 'cart',
      image: 'ghcr.io/acme/cart:2.0.0',
      runtime: 'node',
      scaling: { minReplicas: 2, maxReplicas: 4 },
    });
    expect(res.status).toBe(201);
    expect(t.writer.writes).toHaveLength(1);
    const w = t.writer.writes[0]!;
    expect(w.op).toBe('create');
    expect(w.caller).toMatchObject({ subject: 'alice', groups: ['team-a'] });
    expect(w.obj).toMatchObject({
      apiVersion: 'paved.dev/v1alpha1',
      kind: 'WebService',
      metadata: { name: 'cart', namespace: 'team-a', labels: { 'paved.dev/team': 'team-a' } },
      spec: { image: 'ghcr.io/acme/cart:2.0.0', runtime: 'node', scaling: { minReplicas: 2, maxReplicas: 4 } },
    });
    expect((w.obj as any).spec.name).toBeUndefined();
    const audit = t.log.lines().filter((l) => l['audit'] === true);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ who: 'alice', what: 'POST /api/v1/namespaces/:namespace/webservices', target: '/api/v1/namespaces/team-a/webservices', status: 201, result: 'success' });
  });

  it('audits denied and unauthenticated mutating calls too', async () => {
    const t = setup();
    await call(t, 'DELETE', '/api/v1/namespaces/team-a/webservices/shop', await bob());
    await call(t, 'DELETE', '/api/v1/namespaces/team-a/webservices/shop');
    const audit = t.log.lines().filter((l) => l['audit'] === true);
    expect(audit.map((a) => [a['who'], a['result'], a['status'], a['target']])).toEqual([
      ['bob', 'denied', 403, '/api/v1/namespaces/team-a/webservices/shop'],
      ['anonymous', 'denied', 401, '/api/v1/namespaces/team-a/webservices/shop'],
    ]);
  });

  it('maps Kubernetes RBAC and validation errors from the writer', async () => {
    const w = world();
    const { KubeApiError } = await import('../../src/kube/index.js');
    const writer = (await import('./fixtures.js')).recordingWriter((rec) =>
      rec.op === 'create'
        ? new KubeApiError(403, 'Forbidden', 'webservices.paved.dev is forbidden: User "alice" cannot create')
        : new KubeApiError(422, 'Invalid', 'WebService "x" is invalid', { causes: [{ field: 'spec.networking.host', message: 'bad' }] }),
    );
    const t = buildApp({ sources: w.sources, auth, writer });
    const denied = await call(t, 'POST', '/api/v1/namespaces/team-a/webservices', await alice(), { name: 'x', image: 'x:1' });
    expect(denied.status).toBe(403);
    expect(denied.json.code).toBe('Forbidden');
    const invalid = await call(t, 'PUT', '/api/v1/namespaces/team-a/webservices/x', await alice(), { image: 'x:1' });
    expect(invalid.status).toBe(400);
    expect(invalid.json).toMatchObject({ code: 'InvalidSpec', field: 'spec.networking.host' });
  });

  it('updates with apply, deletes, and sets the rollout action annotation', async () => {
    const t = setup();
    const token = await alice();
    expect((await call(t, 'PUT', '/api/v1/namespaces/team-a/webservices/shop', token, { image: 'ghcr.io/acme/app:1.1.0' })).status).toBe(200);
    expect((await call(t, 'PUT', '/api/v1/namespaces/team-a/webservices/shop', token, { name: 'other', image: 'x:1' })).json.field).toBe('name');
    const promote = await call(t, 'POST', '/api/v1/namespaces/team-a/webservices/shop/promote', token, { full: true });
    expect(promote.status).toBe(202);
    expect(Object.values(promote.json.annotation)[0]).toMatch(/^promote-full@[0-9a-f]+$/);
    const abort = await call(t, 'POST', '/api/v1/namespaces/team-a/webservices/shop/abort', token);
    expect(abort.status).toBe(202);
    expect(abort.json.annotation['paved.dev/rollout-action']).toMatch(/^abort@/);
    expect((await call(t, 'POST', '/api/v1/namespaces/team-a/webservices/shop/explode', token)).status).toBe(400);
    expect((await call(t, 'DELETE', '/api/v1/namespaces/team-a/webservices/shop', token)).status).toBe(200);
    expect(t.writer.writes.map((w) => w.op)).toEqual(['apply', 'annotate', 'annotate', 'delete']);
  });

  it('previews without writing, through the seams when wired', async () => {
    const t = setup();
    const res = await call(t, 'POST', '/api/v1/namespaces/team-a/webservices/preview', await alice(), { name: 'cart', image: 'x:1' });
    expect(res.status).toBe(200);
    expect(res.json.rendered).toBe(false);
    expect(res.json.objects[0].kind).toBe('WebService');
    expect(t.writer.writes).toHaveLength(0);

    const w = world();
    const { createApp } = await import('../../src/server/app.js');
    const { StreamHub } = await import('../../src/server/hub.js');
    const { Registry } = await import('prom-client');
    const { recordingWriter, capturingLogger, roles } = await import('./fixtures.js');
    const api = createApp({
      sources: w.sources,
      hub: new StreamHub(),
      writer: recordingWriter(),
      auth,
      roles,
      logger: capturingLogger().logger,
      registry: new Registry(),
      preview: (ws) => ({ objects: [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: ws.metadata?.name } }] }),
      projectMonthlyCost: (objects) => ({ monthly: 12.5 * objects.length, currency: 'USD' }),
    });
    const res2 = await api.app.request('/api/v1/namespaces/team-a/webservices/preview', {
      method: 'POST',
      headers: { authorization: `Bearer ${await alice()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'cart', image: 'x:1' }),
    });
    const body = (await res2.json()) as any;
    expect(body).toMatchObject({ rendered: true, cost: { monthly: 12.5, currency: 'USD' }, objects: [{ kind: 'Deployment', metadata: { name: 'cart' } }] });
  });
});

describe('platform endpoints', () => {
  it('serves health, readiness, metrics and the OpenAPI document without auth', async () => {
    const t = setup();
    expect((await t.app.request('/healthz')).status).toBe(200);
    expect((await t.app.request('/readyz')).status).toBe(200);
    const w = world();
    w.webServices.synced = false;
    const notReady = buildApp({ sources: w.sources, auth });
    expect((await notReady.app.request('/readyz')).status).toBe(503);
    const early = await call(notReady, 'GET', '/api/v1/teams', await alice());
    expect(early.status).toBe(503);
    expect(early.json.code).toBe('NotReady');

    await call(t, 'GET', '/api/v1/teams', await alice());
    const metrics = await (await t.app.request('/metrics')).text();
    expect(metrics).toMatch(/paved_api_requests_total\{method="GET",route="\/api\/v1\/teams",status="200"\} 1/);

    const doc = (await (await t.app.request('/openapi.json')).json()) as any;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const p of ['/api/v1/stream', '/api/v1/teams', '/api/v1/teams/{team}/webservices', '/api/v1/namespaces/{namespace}/webservices', '/api/v1/namespaces/{namespace}/webservices/{name}/{action}', '/api/v1/stream/tickets']) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
    expect(doc.components.schemas.WebServiceIntent.properties.image).toBeDefined();
  });

  it('mounts extra route modules under /api/v1 behind auth', async () => {
    const w = world();
    const cost = new Hono<ApiEnv>().get('/teams/:team', (c) => c.json({ team: c.req.param('team'), who: c.get('caller').subject }));
    const t = buildApp({ sources: w.sources, auth, routes: [{ path: '/cost', app: cost }] });
    expect((await call(t, 'GET', '/api/v1/cost/teams/team-a')).status).toBe(401);
    const res = await call(t, 'GET', '/api/v1/cost/teams/team-a', await alice());
    expect(res.json).toEqual({ team: 'team-a', who: 'alice' });
  });

  it('lets a module that reads a source of its own serve while the caches sync; others get the 503', async () => {
    const w = world();
    w.webServices.synced = false;
    const own = new Hono<ApiEnv>().get('/pricing', (c) => c.json({ ok: true }));
    const cached = new Hono<ApiEnv>().get('/', (c) => c.json({ ok: true }));
    const t = buildApp({
      sources: w.sources, auth,
      routes: [{ path: '/cost', app: own, servesWhileSyncing: true }, { path: '/teams/:team/recommendations', app: cached }],
    });
    expect((await call(t, 'GET', '/api/v1/cost/pricing', await alice())).status).toBe(200);
    const early = await call(t, 'GET', '/api/v1/teams/team-a/recommendations', await alice());
    expect(early.status).toBe(503);
    expect(early.json.code).toBe('NotReady');
  });

  it('serves the real cost routes as main.ts mounts them (prefix-less module at /cost), team-scoped', async () => {
    const w = world();
    const cost = createCostRoutes({ cost: { pricing: DEFAULT_PRICING } as unknown as CostService }, { prefix: '' });
    const t = buildApp({ sources: w.sources, auth, routes: [{ path: '/cost', app: cost }] });
    const pricing = await call(t, 'GET', '/api/v1/cost/pricing', await alice());
    expect(pricing.status).toBe(200);
    expect(pricing.json.cpuCoreHour).toBe(DEFAULT_PRICING.cpuCoreHour);
    const other = await call(t, 'GET', '/api/v1/cost/teams/team-b', await alice());
    expect(other.status).toBe(403);
    expect((await call(t, 'GET', '/api/v1/cost/pricing')).status).toBe(401);
  });

  it('answers unknown routes and non-upgrade stream requests with JSON errors', async () => {
    const t = setup();
    const res = await call(t, 'GET', '/api/v1/nope', await alice());
    expect(res.status).toBe(404);
    expect(res.json.code).toBe('NotFound');
    expect((await call(t, 'GET', '/api/v1/stream?team=team-a', await alice())).status).toBe(426);
    expect((await call(t, 'GET', '/api/v1/stream?team=team-b', await alice())).status).toBe(403);
  });

  it('runs as local-admin without OIDC', async () => {
    const w = world();
    const t = buildApp({ sources: w.sources, auth: { kind: 'local' } });
    const res = await call(t, 'GET', '/api/v1/me');
    expect(res.json).toMatchObject({ subject: 'local-admin', isPlatformAdmin: true });
  });
});
