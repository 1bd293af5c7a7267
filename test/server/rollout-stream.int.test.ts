/**
 * The whole path on the real API server with the real controllers (WebService and delivery, kwok runs
 * the pods): a developer deploys and updates a service through the API (impersonated), a stream client
 * subscribed to the team watches the rollout progress live (canary weights on the route, ready pods per
 * track, revisions) and promotes it through the API; and the preview of the intent is what the
 * controller applied.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricsProvider } from '../../src/analysis/prometheus-provider.js';
import { KubeClients, createInformer, isSubset, type Informer } from '../../src/kube/index.js';
import { rendererPreview } from '../../src/server/preview.js';
import type { ServiceView } from '../../src/server/view.js';
import { startStack, type Stack } from '../delivery/stack.js';
import { adminKubeConfig, createTestNamespace } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { startOidcApi, type OidcApi } from '../support/oidc-api.js';
import { startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.js';
import { createTeamWithRbac } from '../support/team-rbac.js';
import { StreamClient } from './stream-client.js';

const API = 'paved.dev/v1alpha1';
const SLOW = { timeoutMs: 120_000, intervalMs: 250 };
let ns = '';
let issuer: OidcIssuer;
let admin: KubeClients;
let stack: Stack;
let informers: Informer<KubernetesObject>[] = [];
let api: OidcApi | undefined;
let client: StreamClient;
/** Every state of the service the client held, in order of receipt. */
const history: ServiceView[] = [];

/** No analysis steps here: the provider is never asked. */
const noMetrics: MetricsProvider = { query: async () => ({ kind: 'noData' }) };

beforeAll(async () => {
  issuer = await startOidcIssuer();
  const kc = adminKubeConfig();
  admin = KubeClients.fromKubeConfig(kc);
  ns = await createTestNamespace('api-rollout');
  await createTeamWithRbac(ns, { owners: ['team-a'] });
  stack = await startStack(ns, noMetrics);

  const teams = createInformer<KubernetesObject>({ clients: admin, apiVersion: API, kind: 'Team' });
  const namespaces = createInformer<KubernetesObject>({ clients: admin, apiVersion: 'v1', kind: 'Namespace', labelSelector: 'paved.dev/team' });
  const webServices = createInformer<KubernetesObject>({ clients: admin, apiVersion: API, kind: 'WebService', namespace: ns });
  const deployments = createInformer<KubernetesObject>({ clients: admin, apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, labelSelector: 'paved.dev/service' });
  const httpRoutes = createInformer<KubernetesObject>({ clients: admin, apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', namespace: ns });
  informers = [teams, namespaces, webServices, deployments, httpRoutes];
  await Promise.all(informers.map((i) => i.start()));
  await Promise.all(informers.map((i) => i.waitForSync()));
  const sources = { teams, namespaces, webServices, deployments, httpRoutes };
  // The stack's WebService controller previews (its render and policy context).
  api = await startOidcApi({ issuer, sources, kubeConfig: kc, extra: { preview: rendererPreview((ws, team) => stack.web.preview(ws, team)) } });
});

afterAll(async () => {
  client?.ws.terminate();
  await api?.stop();
  await Promise.all(informers.map((i) => i.stop()));
  await stack?.stop();
  await admin.delete({ apiVersion: API, kind: 'Team', name: ns }).catch(() => undefined);
  await issuer?.stop();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const token = await issuer.mint({ subject: 'alice', groups: ['team-a'] });
  const res = await fetch(`${api!.server.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: await res.json() };
}

const intent = (image: string) => ({
  name: 'web',
  image,
  networking: { visibility: 'public', host: 'web.example.com' },
  scaling: { minReplicas: 2, maxReplicas: 4 },
  delivery: { steps: [{ setWeight: 10 }, { pause: {} }, { setWeight: 50 }, { pause: {} }], scaleDownDelaySeconds: 0 },
});

/** Drops empty lists and objects: the API server omits them (omitempty), so they are not a difference. */
function pruneEmpty(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? undefined : v.map(pruneEmpty);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const p = pruneEmpty(x);
      if (p !== undefined) out[k] = p;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return v;
}

/** The first path where `desired` is not a subset of `live` (isSubset's rules), for a readable failure. */
function firstDifference(desired: unknown, live: unknown, path = ''): string | undefined {
  if (isSubset(desired, live)) return undefined;
  if (desired && typeof desired === 'object' && live && typeof live === 'object') {
    if (Array.isArray(desired)) {
      for (let i = 0; i < desired.length; i++) {
        const d = firstDifference(desired[i], (live as unknown[])[i], `${path}[${i}]`);
        if (d) return d;
      }
    } else {
      for (const [k, v] of Object.entries(desired)) {
        const d = firstDifference(v, (live as Record<string, unknown>)[k], `${path}.${k}`);
        if (d) return d;
      }
    }
  }
  return `${path}: preview ${JSON.stringify(desired)?.slice(0, 300)} / live ${JSON.stringify(live)?.slice(0, 300)}`;
}

const current = (): ServiceView | undefined => client.state.get(`${ns}/web`) as ServiceView | undefined;

describe('a rollout watched through the stream', () => {
  it('shows intent and reality live while the API deploys, updates and promotes', async () => {
    client = new StreamClient({ url: api!.server.url, query: { team: ns }, credential: { bearer: await issuer.mint({ subject: 'alice', groups: ['team-a'] }) } });
    client.onMessage = () => {
      const v = current();
      if (v) history.push(JSON.parse(JSON.stringify(v)) as ServiceView);
    };
    await client.opened;

    expect((await call('POST', `/namespaces/${ns}/webservices`, intent('ghcr.io/acme/web:1.0.0'))).status).toBe(201);
    await eventually(() => {
      const v = current();
      expect(v?.reality).toMatchObject({ phase: 'Healthy', readyPods: { stable: 2, canary: 0 } });
      expect(v?.reality.stableRevision).toBe(v?.intent.revision);
    }, SLOW);
    const firstRevision = current()!.intent.revision;

    // A new image: the canary takes 10%, then waits at the pause step.
    expect((await call('PUT', `/namespaces/${ns}/webservices/web`, intent('ghcr.io/acme/web:2.0.0'))).status).toBe(200);
    await eventually(() => {
      const v = current()!;
      expect(v.intent.image).toBe('ghcr.io/acme/web:2.0.0');
      expect(v.intent.revision).not.toBe(firstRevision);
      expect(v.reality).toMatchObject({ phase: 'Paused', stableRevision: firstRevision, canaryRevision: v.intent.revision, routeWeights: { canary: 10 } });
      expect(v.reality.readyPods.canary).toBeGreaterThan(0);
      expect(v.reality.converged).toBe(false);
      expect(v.reality.notConvergedSince).not.toBeNull();
    }, SLOW);

    expect((await call('POST', `/namespaces/${ns}/webservices/web/promote`, {})).status).toBe(202);
    await eventually(() => expect(current()!.reality).toMatchObject({ phase: 'Paused', routeWeights: { canary: 50 } }), SLOW);

    expect((await call('POST', `/namespaces/${ns}/webservices/web/promote`, { full: true })).status).toBe(202);
    await eventually(() => {
      const v = current()!;
      expect(v.reality).toMatchObject({ phase: 'Healthy', stableRevision: v.intent.revision, routeWeights: { canary: 0 } });
      expect(v.reality.converged).toBe(true);
      expect(v.reality.notConvergedSince).toBeNull();
    }, SLOW);

    // The client saw the canary's share of traffic move 10 -> 50 -> 0, in that order.
    const weights: number[] = [];
    for (const v of history) {
      const w = v.reality.routeWeights?.canary;
      if (w !== undefined && weights.at(-1) !== w) weights.push(w);
    }
    const i10 = weights.indexOf(10);
    const i50 = weights.indexOf(50);
    expect(i10).toBeGreaterThanOrEqual(0);
    expect(i50).toBeGreaterThan(i10);
    expect(weights.at(-1)).toBe(0);
    const seqs = client.messages.map((m) => m.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('previews exactly what the controller applied', async () => {
    const res = await call('POST', `/namespaces/${ns}/webservices/preview`, intent('ghcr.io/acme/web:2.0.0'));
    expect(res.status).toBe(200);
    expect(res.json.rendered).toBe(true);
    expect(res.json.allowed).toBe(true);
    const objects = res.json.objects as KubernetesObject[];
    expect(objects.length).toBeGreaterThan(3);
    for (const o of objects) {
      const live = await admin.get({ apiVersion: o.apiVersion!, kind: o.kind!, namespace: o.metadata?.namespace ?? ns, name: o.metadata!.name! });
      expect(live, `${o.kind}/${o.metadata?.name}`).toBeDefined();
      const { metadata, ...rest } = o as KubernetesObject & Record<string, unknown>;
      expect(firstDifference(pruneEmpty(rest), live), `${o.kind}/${o.metadata?.name} differs from the live object`).toBeUndefined();
      expect(isSubset(metadata?.labels, live?.metadata?.labels), `${o.kind}/${o.metadata?.name} labels`).toBe(true);
    }
  });
});
