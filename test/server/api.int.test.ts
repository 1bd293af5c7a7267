/**
 * The API against the real API server: informers from src/kube feed the stream, status written to
 * the API server reaches a subscribed WebSocket client live, and a write made through the API is allowed
 * or forbidden by Kubernetes RBAC for the caller (a SubjectAccessReview) before it is made as the
 * namespace's paved-deployer (test/server/writer.int.test.ts has who wrote, in the audit log).
 */
import { RbacAuthorizationV1Api, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClients, createInformer, type Informer } from '../../src/kube/index.js';
import type { StreamHub } from '../../src/server/hub.js';
import type { RunningServer } from '../../src/server/serve.js';
import { adminKubeConfig, createTestNamespace, labelTeamNamespace } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { startOidcApi, type OidcApi } from '../support/oidc-api.js';
import { startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.js';
import { createDeployer } from '../support/team-rbac.js';
import { StreamClient } from './stream-client.js';

const WS = 'paved.dev/v1alpha1';
let issuer: OidcIssuer;
let admin: KubeClients;
let informers: Informer<KubernetesObject>[] = [];
let oidcApi: OidcApi | undefined;
let server: RunningServer;
let hub: StreamHub;
const clients: StreamClient[] = [];
const teamNames: string[] = [];
let nsA = '';
let nsB = '';
let nsC = '';

async function createTeam(name: string, groups: string[]): Promise<void> {
  await admin.request({
    method: 'POST',
    path: '/apis/paved.dev/v1alpha1/teams',
    body: { apiVersion: WS, kind: 'Team', metadata: { name }, spec: { owners: { groups }, costCenter: 'cc-test', quota: { tier: 'small' } } },
  });
  teamNames.push(name);
}

async function createWebService(namespace: string, name: string, image: string): Promise<void> {
  await admin.request({
    method: 'POST',
    path: `/apis/paved.dev/v1alpha1/namespaces/${namespace}/webservices`,
    body: { apiVersion: WS, kind: 'WebService', metadata: { name, namespace }, spec: { image } },
  });
}

async function writeStatus(namespace: string, name: string, status: Record<string, unknown>): Promise<void> {
  await admin.request({
    method: 'PATCH',
    path: `/apis/paved.dev/v1alpha1/namespaces/${namespace}/webservices/${name}/status`,
    contentType: 'application/merge-patch+json',
    body: { status },
  });
}

async function getWebService(namespace: string, name: string): Promise<KubernetesObject | undefined> {
  return admin.get({ apiVersion: WS, kind: 'WebService', namespace, name });
}

/** Lets group `team-a` manage WebServices in `namespace` (what tenancy's RoleBinding does). */
async function grantTeamA(namespace: string): Promise<void> {
  const rbac = adminKubeConfig().makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name: 'webservice-editor' },
      rules: [{ apiGroups: ['paved.dev'], resources: ['webservices'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] }],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'team-a-webservices' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'webservice-editor' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'team-a' }],
    },
  });
}

beforeAll(async () => {
  issuer = await startOidcIssuer();
  const kc = adminKubeConfig();
  admin = KubeClients.fromKubeConfig(kc);
  // A Team owns the namespace named after it (no environments).
  nsA = await createTestNamespace('api-a');
  nsB = await createTestNamespace('api-b');
  nsC = await createTestNamespace('api-c');
  await createTeam(nsA, ['team-a']);
  await createTeam(nsB, ['team-b']);
  for (const ns of [nsA, nsB, nsC]) {
    await labelTeamNamespace(ns, ns);
    await createDeployer(ns);
  }
  // Team C also lists team-a, but RBAC grants team-a nothing in its namespace: the API lets the call
  // through its own team check and the API server must refuse it.
  await createTeam(nsC, ['team-a']);
  await grantTeamA(nsA);

  const teams = createInformer<KubernetesObject>({ clients: admin, apiVersion: WS, kind: 'Team' });
  const webServices = createInformer<KubernetesObject>({ clients: admin, apiVersion: WS, kind: 'WebService' });
  const namespaces = createInformer<KubernetesObject>({ clients: admin, apiVersion: 'v1', kind: 'Namespace', labelSelector: 'paved.dev/team' });
  informers = [teams, namespaces, webServices];
  await Promise.all(informers.map((i) => i.start()));
  await Promise.all(informers.map((i) => i.waitForSync()));

  oidcApi = await startOidcApi({ issuer, sources: { teams, namespaces, webServices }, kubeConfig: kc });
  ({ server, hub } = oidcApi);
});

afterAll(async () => {
  for (const c of clients) c.ws.terminate();
  await oidcApi?.stop();
  await Promise.all(informers.map((i) => i.stop()));
  await Promise.all(
    teamNames.map((t) => admin.delete({ apiVersion: WS, kind: 'Team', name: t }).catch(() => undefined)),
  );
  await issuer?.stop();
});

const alice = (): Promise<string> => issuer.mint({ subject: 'alice', groups: ['team-a'] });

async function post(path: string, body: unknown, token: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

describe('live API against the real API server', () => {
  it('streams a team\'s WebService changes live, from informer events, and never another team\'s', async () => {
    await createWebService(nsA, 'shop', 'ghcr.io/acme/shop:1.0.0');
    const client = new StreamClient({ url: server.url, query: { team: nsA }, credential: { bearer: await alice() } });
    clients.push(client);
    await client.opened;
    await eventually(() => expect(client.state.has(`${nsA}/shop`)).toBe(true), { timeoutMs: 30_000 });
    expect(client.messages[0]?.type).toBe('snapshot');

    // Reality changes as a controller would write it: through the status subresource.
    await writeStatus(nsA, 'shop', {
      observedGeneration: 1,
      revision: 'rev-2',
      rollout: { phase: 'Progressing', stableRevision: 'rev-1', canaryRevision: 'rev-2', stepIndex: 1, weight: 50, attempt: 0, history: [] },
    });
    const seen = (): any[] =>
      client.messages.flatMap((m) => (m.type === 'delta' || m.type === 'service' ? [m] : []));
    await eventually(
      async () => {
        const shop = client.state.get(`${nsA}/shop`) as any;
        expect(shop.reality).toMatchObject({ observedGeneration: 1, phase: 'Progressing', stableRevision: 'rev-1', canaryRevision: 'rev-2' });
        expect(shop.intent).toMatchObject({ revision: 'rev-2', step: 1, weight: 50 });
      },
      { timeoutMs: 30_000 },
    );
    // Another team's service changes meanwhile: the client never hears of it.
    await createWebService(nsB, 'secret', 'ghcr.io/acme/secret:1.0.0');
    await writeStatus(nsB, 'secret', { observedGeneration: 1 });
    await writeStatus(nsA, 'shop', { rollout: { phase: 'Healthy', stableRevision: 'rev-2', stepIndex: 3, weight: 0, attempt: 0, history: [] } });
    await eventually(() => expect((client.state.get(`${nsA}/shop`) as any).reality.phase).toBe('Healthy'), { timeoutMs: 30_000 });
    expect(JSON.stringify(client.messages)).not.toContain(nsB);
    const seqs = client.messages.map((m) => m.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seen().length).toBeGreaterThanOrEqual(2);
  });

  it('creates through the API when RBAC allows the caller, and refuses in the API server\'s words where it does not', async () => {
    const token = await alice();
    const ok = await post(`/api/v1/namespaces/${nsA}/webservices`, { name: 'cart', image: 'ghcr.io/acme/cart:1.0.0' }, token);
    expect(ok.status).toBe(201);
    const cart = await getWebService(nsA, 'cart');
    expect(cart?.metadata?.managedFields?.some((f) => f.manager === 'paved-api')).toBe(true);

    // Team C lists alice's group, so the API's team check passes; RBAC has no binding there.
    const denied = await post(`/api/v1/namespaces/${nsC}/webservices`, { name: 'cart', image: 'ghcr.io/acme/cart:1.0.0' }, token);
    expect(denied.status).toBe(403);
    expect(denied.json.code).toBe('Forbidden');
    expect(denied.json.message).toBe(
      `webservices.paved.dev is forbidden: User "alice" cannot create resource "webservices" in API group "paved.dev" in the namespace "${nsC}"`,
    );
    expect(await getWebService(nsC, 'cart')).toBeUndefined();

    // Another team's namespace: refused by the API before any write.
    const other = await post(`/api/v1/namespaces/${nsB}/webservices`, { name: 'cart', image: 'ghcr.io/acme/cart:1.0.0' }, token);
    expect(other.status).toBe(403);
    expect(await getWebService(nsB, 'cart')).toBeUndefined();
  });

  it('rejects an invalid intent with 400 naming the field and creates nothing', async () => {
    const res = await post(`/api/v1/namespaces/${nsA}/webservices`, { name: 'broken', image: 'x:1', scaling: { minReplicas: 4, maxReplicas: 2 } }, await alice());
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: 'InvalidSpec', field: 'scaling.minReplicas' });
    expect(await getWebService(nsA, 'broken')).toBeUndefined();
  });

  it('sets the rollout action annotation as the caller', async () => {
    await eventually(() => expect(hub.view(`${nsA}/cart`)).toBeDefined(), { timeoutMs: 30_000 });
    const res = await post(`/api/v1/namespaces/${nsA}/webservices/cart/pause`, {}, await alice());
    expect(res.status).toBe(202);
    const cart = await getWebService(nsA, 'cart');
    expect(cart?.metadata?.annotations?.['paved.dev/rollout-action']).toMatch(/^pause@/);
  });
});
