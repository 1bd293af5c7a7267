/**
 * The API's writes on the real API server, with the RBAC paved ships: the writer runs with the token of
 * a `paved` ServiceAccount bound to exactly deploy/paved's paved-controller and paved-api-access-review
 * ClusterRoles (test/deploy/manifests.ts; no `impersonate` on users or groups), over Teams provisioned by
 * the real tenancy controller (their paved-deployer and team RBAC). A team-A owner's writes are allowed
 * and recorded as made by team A's paved-deployer; a team-B member is refused (by the API, and by
 * Kubernetes in the API server's own words when the writer is asked directly) and nothing is written;
 * a token saying `system:masters` gets no power from it.
 */
import { randomBytes } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../src/access/index.js';
import type { Team } from '../../src/api/index.js';
import { KubeApiError, KubeClients, createInformer, serviceAccountUser, type Informer } from '../../src/kube/index.js';
import { createResourceWriter, type ResourceWriter } from '../../src/server/writer.js';
import { startTenancyController, type RunningTenancyController } from '../../src/tenancy/controller.js';
import { installControllerIdentities, statusOf, type ControllerIdentity, type InstalledIdentities } from '../deploy/manifests.js';
import { auditWrites } from '../process/teams.js';
import { adminKubeConfig, clusterInfo, createTestNamespace } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { startOidcApi, type OidcApi } from '../support/oidc-api.js';
import { startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.js';
import { TEST_TENANCY_CONFIG } from '../support/team-rbac.js';

const API = 'paved.dev/v1alpha1';
const run = randomBytes(3).toString('hex');
const prefix = `wr${run}`;
const teamA = `${prefix}-a`; // owns namespace teamA (no environments)
const teamB = `${prefix}-b`;
const devsA = `${prefix}-a-devs`;
const devsB = `${prefix}-b-devs`;
const admin = KubeClients.fromKubeConfig(adminKubeConfig());
const config = TEST_TENANCY_CONFIG;

let tc: RunningTenancyController | undefined;
let issuer: OidcIssuer;
let installed: InstalledIdentities | undefined;
let identity: ControllerIdentity;
let informers: Informer<KubernetesObject>[] = [];
let api: OidcApi | undefined;
/** The writer as the API builds it, with the shipped ServiceAccount's token (the second gate, asked directly). */
let writer: ResourceWriter;

const getTeam = (name: string): Promise<Team | undefined> => admin.get<Team>({ apiVersion: API, kind: 'Team', name });
const getWs = (name: string, ns = teamA) => admin.get<KubernetesObject>({ apiVersion: API, kind: 'WebService', namespace: ns, name });
const webService = (name: string): KubernetesObject => ({ apiVersion: API, kind: 'WebService', metadata: { name, namespace: teamA }, spec: { image: 'ghcr.io/b/evil:1' } }) as KubernetesObject;
const caller = (subject: string, groups: string[], teams: string[] = []): Caller => ({ subject, groups, teams, isPlatformAdmin: false, isFinance: false });
const forbidden = (user: string, verb: string, ns: string, name?: string) =>
  `webservices.paved.dev${name ? ` "${name}"` : ''} is forbidden: User "${user}" cannot ${verb} resource "webservices" in API group "paved.dev" in the namespace "${ns}"`;

async function createTeam(name: string, groups: string[]): Promise<void> {
  await admin.request({
    method: 'POST',
    path: `/apis/${API}/teams`,
    body: { apiVersion: API, kind: 'Team', metadata: { name }, spec: { owners: { groups }, costCenter: 'cc-1', quota: { tier: 'small' }, deletionPolicy: 'Delete' } },
  });
}

beforeAll(async () => {
  issuer = await startOidcIssuer();
  tc = await startTenancyController({ clients: KubeClients.fromKubeConfig(adminKubeConfig()), config, ownsTeam: (n) => n.startsWith(`${prefix}-`) });
  await createTeam(teamA, [devsA]);
  await createTeam(teamB, [devsB]);
  for (const t of [teamA, teamB]) {
    await eventually(async () => expect((await getTeam(t))?.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True'), { timeoutMs: 90_000 });
  }
  // The `paved` ServiceAccount with the shipped RBAC, in a namespace playing paved-system.
  const home = await createTestNamespace('writer-sa');
  installed = await installControllerIdentities(admin, { namespace: home, suffix: run, roles: ['paved-controller', 'paved-api-access-review'] });
  identity = installed.identities[0]!;
  writer = createResourceWriter({ kubeConfig: identity.kubeConfig, reviewCallers: true });

  const teams = createInformer<KubernetesObject>({ clients: admin, apiVersion: API, kind: 'Team' });
  const namespaces = createInformer<KubernetesObject>({ clients: admin, apiVersion: 'v1', kind: 'Namespace', labelSelector: 'paved.dev/team' });
  const webServices = createInformer<KubernetesObject>({ clients: admin, apiVersion: API, kind: 'WebService', namespace: teamA });
  informers = [teams, namespaces, webServices];
  await Promise.all(informers.map((i) => i.start()));
  await Promise.all(informers.map((i) => i.waitForSync()));
  api = await startOidcApi({ issuer, sources: { teams, namespaces, webServices }, kubeConfig: identity.kubeConfig });
});

afterAll(async () => {
  await api?.stop();
  await Promise.all(informers.map((i) => i.stop()));
  for (const name of [teamA, teamB]) await admin.delete({ apiVersion: API, kind: 'Team', name }).catch(() => undefined);
  if (tc) await eventually(async () => expect(await getTeam(teamA)).toBeUndefined(), { timeoutMs: 120_000 }).catch(() => undefined);
  await tc?.stop();
  await installed?.remove();
  await issuer?.stop();
});

async function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${api!.server.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: await res.json().catch(() => undefined) };
}

describe('API writes: reviewed for the caller, made as the namespace deployer', () => {
  it("a team-A owner's create, update and rollout control are allowed and made by team A's paved-deployer", async () => {
    const since = Date.now() - 1_000;
    const alice = await issuer.mint({ subject: 'alice', groups: [devsA] });
    const created = await call('POST', `/namespaces/${teamA}/webservices`, alice, { name: 'shop', image: 'ghcr.io/acme/shop:1.0.0' });
    expect(created.status).toBe(201);
    const updated = await call('PUT', `/namespaces/${teamA}/webservices/shop`, alice, { image: 'ghcr.io/acme/shop:1.1.0' });
    expect(updated.status).toBe(200);
    await eventually(() => expect(informers[2]!.getByName('shop', teamA)).toBeDefined());
    const paused = await call('POST', `/namespaces/${teamA}/webservices/shop/pause`, alice, {});
    expect(paused.status).toBe(202);

    const shop = await getWs('shop');
    expect((shop as { spec?: { image?: string } }).spec?.image).toBe('ghcr.io/acme/shop:1.1.0');
    expect(shop?.metadata?.annotations?.['paved.dev/rollout-action']).toMatch(/^pause@/);
    expect(new Set(shop?.metadata?.managedFields?.map((f) => f.manager))).toEqual(new Set(['paved-api']));

    // Who wrote (the API server's audit log): the ServiceAccount, as team A's deployer; never as alice.
    const auditLog = clusterInfo().auditLog;
    if (clusterInfo().provider !== 'local' || !auditLog) return;
    await eventually(async () => {
      const writes = (await auditWrites(auditLog, teamA)).filter((w) => w.resource === 'webservices' && w.namespace === teamA && w.at >= since);
      expect(writes.map((w) => w.verb).sort()).toEqual(['create', 'patch', 'patch']);
      for (const w of writes) {
        expect(w.user).toBe(identity.username);
        expect(w.impersonatedUser).toBe(serviceAccountUser(teamA, 'paved-deployer'));
        expect(w.code).toBeLessThan(300);
      }
      const reviews = (await auditWrites(auditLog, identity.username)).filter((w) => w.resource === 'subjectaccessreviews' && w.at >= since);
      expect(reviews.length).toBeGreaterThanOrEqual(4); // create; patch and create for the apply; patch
    });
  });

  it('a team-B member is refused by the API, and by Kubernetes in its own words when the writer is asked directly; nothing is written', async () => {
    await eventually(async () => expect(await getWs('shop')).toBeDefined());
    const before = (await getWs('shop'))?.metadata?.resourceVersion;
    const bob = await issuer.mint({ subject: 'bob', groups: [devsB] });
    const viaApi = await call('POST', `/namespaces/${teamA}/webservices/shop/abort`, bob, {});
    expect(viaApi.status).toBe(403);
    expect(viaApi.json).toMatchObject({ code: 'Forbidden', message: `caller may not change team ${teamA}'s services` });

    // As if the API's team check were wrong: Kubernetes RBAC still decides, for bob.
    const asBob = caller('bob', [devsB], [teamA]);
    // One at a time: a refusal started before the previous one is awaited would be an unhandled rejection.
    const refusals: Array<[() => Promise<unknown>, string]> = [
      [() => writer.annotate({ namespace: teamA, name: 'shop' }, { 'paved.dev/rollout-action': 'abort@1' }, asBob), forbidden('bob', 'patch', teamA, 'shop')],
      [() => writer.create(webService('evil'), asBob), forbidden('bob', 'create', teamA)],
      [() => writer.apply(webService('shop'), asBob), forbidden('bob', 'patch', teamA, 'shop')],
      [() => writer.delete({ namespace: teamA, name: 'shop' }, asBob), forbidden('bob', 'delete', teamA, 'shop')],
    ];
    for (const [attempt, message] of refusals) {
      const err = await attempt().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(KubeApiError);
      expect((err as KubeApiError).statusCode).toBe(403);
      expect((err as KubeApiError).statusMessage).toBe(message);
    }
    expect((await getWs('shop'))?.metadata?.resourceVersion).toBe(before);
    expect(await getWs('evil')).toBeUndefined();

    // Bob's own team: the same writer writes there, as team B's deployer.
    const own = await call('POST', `/namespaces/${teamB}/webservices`, bob, { name: 'billing', image: 'ghcr.io/b/billing:1' });
    expect(own.status).toBe(201);
    expect(await getWs('billing', teamB)).toBeDefined();
  });

  it('a token carrying system:masters gets no power from it', async () => {
    // A platform admin passes the API's own check; Kubernetes is asked without system:masters, and says no.
    for (const subject of ['mallory', 'system:admin']) {
      const token = await issuer.mint({ subject, groups: ['system:masters', 'paved:platform-admins'] });
      const res = await call('POST', `/namespaces/${teamA}/webservices`, token, { name: 'masters', image: 'ghcr.io/m/m:1' });
      expect(res.status).toBe(403);
      expect(res.json).toMatchObject({ code: 'Forbidden', message: forbidden(subject === 'system:admin' ? 'oidc:system:admin' : subject, 'create', teamA) });
    }
    const err = await writer
      .delete({ namespace: teamA, name: 'shop' }, caller('system:serviceaccount:kube-system:default', ['system:masters', 'system:nodes'], [teamA]))
      .then(() => undefined, (e: unknown) => e);
    expect((err as KubeApiError).statusMessage).toBe(forbidden('oidc:system:serviceaccount:kube-system:default', 'delete', teamA, 'shop'));
    expect(await getWs('masters')).toBeUndefined();
    expect(await getWs('shop')).toBeDefined();
  });

  it("the API's ServiceAccount can impersonate no user, group or other ServiceAccount: only the deployers", async () => {
    const get = (as: KubeClients) => statusOf(as.request({ method: 'GET', path: `/apis/${API}/namespaces/${teamA}/webservices` }));
    expect(await get(identity.clients.impersonate({ user: 'alice', groups: [devsA] }))).toBe(403);
    expect(await get(identity.clients.impersonate({ user: 'alice' }))).toBe(403);
    expect(await get(identity.clients.impersonate(serviceAccountUser(teamA, 'default')))).toBe(403);
    expect(await get(identity.clients.impersonate(serviceAccountUser(teamA, 'paved-deployer')))).toBe(200);
  });

  it("a team-A owner's delete is made by the deployer too", async () => {
    const alice = await issuer.mint({ subject: 'alice', groups: [devsA] });
    const res = await call('DELETE', `/namespaces/${teamA}/webservices/shop`, alice);
    expect(res.status).toBe(200);
    await eventually(async () => expect(await getWs('shop')).toBeUndefined());
  });
});
