/**
 * Namespace takeover, tried as a hostile team on the real API server: team X's Team names team A's
 * namespace in spec.environments. The tenancy controller refuses it (NamespaceConflict); then the
 * controller stops and both Teams' status is emptied (a restart, a restore), and a fresh API process
 * starts over fresh informers. The namespace must still be team A's, because ownership is read only
 * from the Namespace's own controller-written labels: team X reads none of A's services, through the
 * paved API (REST and stream) or straight at the API server, and nothing of team A changes.
 */
import { randomBytes } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Team } from '../../src/api/index.js';
import { ImpersonatingKubeConfig, KubeClients, createInformer, toKubeApiError, type Informer } from '../../src/kube/index.js';
import { startTenancyController, type RunningTenancyController } from '../../src/tenancy/controller.js';
import { StreamClient } from '../server/stream-client.js';
import { adminKubeConfig } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { startOidcApi, type OidcApi } from '../support/oidc-api.js';
import { startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.js';
import { TEST_TENANCY_CONFIG } from '../support/team-rbac.js';

const API = 'paved.dev/v1alpha1';
const prefix = `tk${randomBytes(2).toString('hex')}`;
const teamA = `${prefix}-shop-dev`; // owns the namespace of the same name (no environments)
const teamX = `${prefix}-shop`; // claims "<teamX>-dev", which is team A's namespace
const ns = teamA;
const admin = KubeClients.fromKubeConfig(adminKubeConfig());
const config = TEST_TENANCY_CONFIG;

let tc: RunningTenancyController | undefined;
let issuer: OidcIssuer;
let api: OidcApi | undefined;
let informers: Informer<KubernetesObject>[] = [];
const before: Record<string, string | undefined> = {};

const startTenancy = (): Promise<RunningTenancyController> =>
  startTenancyController({ clients: KubeClients.fromKubeConfig(adminKubeConfig()), config, ownsTeam: (n) => n.startsWith(`${prefix}-`) });

async function createTeam(name: string, groups: string[], environments?: string[]): Promise<void> {
  await admin.request({
    method: 'POST',
    path: `/apis/${API}/teams`,
    body: { apiVersion: API, kind: 'Team', metadata: { name }, spec: { owners: { groups }, costCenter: 'cc-1', quota: { tier: 'small' }, ...(environments ? { environments } : {}) } },
  });
}

const getTeam = (name: string): Promise<Team | undefined> => admin.get<Team>({ apiVersion: API, kind: 'Team', name });
const condition = (t: Team | undefined, type: string) => t?.status?.conditions?.find((c) => c.type === type);
const rv = async (apiVersion: string, kind: string, name: string, namespace?: string): Promise<string | undefined> =>
  (await admin.get<KubernetesObject>({ apiVersion, kind, name, ...(namespace ? { namespace } : {}) }))?.metadata?.resourceVersion;

beforeAll(async () => {
  issuer = await startOidcIssuer();
  tc = await startTenancy();
  await createTeam(teamA, ['team-a']);
  await eventually(async () => expect(condition(await getTeam(teamA), 'Ready')?.status).toBe('True'), { timeoutMs: 90_000 });
  await admin.request({
    method: 'POST',
    path: `/apis/${API}/namespaces/${ns}/webservices`,
    body: { apiVersion: API, kind: 'WebService', metadata: { name: 'checkout' }, spec: { image: 'ghcr.io/acme/checkout:1.0.0' } },
  });
  await createTeam(teamX, ['team-x'], ['dev']);
  await eventually(async () => expect(condition(await getTeam(teamX), 'Degraded')).toMatchObject({ status: 'True', reason: 'NamespaceConflict' }), {
    timeoutMs: 90_000,
  });

  // The restart: the controller goes away and the status it wrote is lost.
  await tc.stop();
  tc = undefined;
  for (const name of [teamA, teamX]) {
    await admin.request({ method: 'PATCH', path: `/apis/${API}/teams/${name}/status`, contentType: 'application/merge-patch+json', body: { status: null } });
  }
  await eventually(async () => expect((await getTeam(teamA))?.status?.namespaces ?? []).toEqual([]));
  before.namespace = await rv('v1', 'Namespace', ns);
  before.webService = await rv(API, 'WebService', 'checkout', ns);
  before.policy = await rv('networking.k8s.io/v1', 'NetworkPolicy', 'paved-default-deny-ingress', ns);

  // A fresh API process over fresh informers.
  const teams = createInformer<KubernetesObject>({ clients: admin, apiVersion: API, kind: 'Team' });
  const namespaces = createInformer<KubernetesObject>({ clients: admin, apiVersion: 'v1', kind: 'Namespace', labelSelector: 'paved.dev/team' });
  const webServices = createInformer<KubernetesObject>({ clients: admin, apiVersion: API, kind: 'WebService' });
  informers = [teams, namespaces, webServices];
  await Promise.all(informers.map((i) => i.start()));
  await Promise.all(informers.map((i) => i.waitForSync()));
  const sources = { teams, namespaces, webServices };
  api = await startOidcApi({ issuer, sources });
});

afterAll(async () => {
  await api?.stop();
  await Promise.all(informers.map((i) => i.stop()));
  // The controller comes back and runs the finalizers (team A's namespace is deleted with it).
  tc ??= await startTenancy();
  await admin.request({ method: 'PATCH', path: `/apis/${API}/teams/${teamA}`, contentType: 'application/merge-patch+json', body: { spec: { deletionPolicy: 'Delete' } } }).catch(() => undefined);
  for (const name of [teamX, teamA]) await admin.delete({ apiVersion: API, kind: 'Team', name }).catch(() => undefined);
  await eventually(async () => expect(await getTeam(teamA)).toBeUndefined(), { timeoutMs: 120_000 }).catch(() => undefined);
  await tc.stop();
  await issuer.stop();
});

async function call(path: string, groups: string[], init: RequestInit = {}): Promise<{ status: number; json: any }> {
  const token = await issuer.mint({ subject: groups[0] === 'team-x' ? 'xavier' : 'alice', groups });
  const res = await fetch(`${api!.server.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
  return { status: res.status, json: await res.json().catch(() => undefined) };
}

describe('namespace takeover after a controller restart with empty status', () => {
  it('team X, which claims the namespace in spec.environments, reads and writes nothing of team A', async () => {
    const read = await call(`/api/v1/namespaces/${ns}/webservices/checkout`, ['team-x']);
    expect(read.status).toBe(403);
    expect(read.json).toMatchObject({ code: 'Forbidden', message: `caller may not read team ${teamA}` });
    const create = await call(`/api/v1/namespaces/${ns}/webservices`, ['team-x'], { method: 'POST', body: JSON.stringify({ name: 'evil', image: 'ghcr.io/x/evil:1' }) });
    expect(create.status).toBe(403);
    const mine = await call(`/api/v1/teams/${teamX}`, ['team-x']);
    expect(mine.status).toBe(200);
    expect(mine.json.namespaces).toEqual([]);
    expect((await call(`/api/v1/teams/${teamX}/webservices`, ['team-x'])).json.items).toEqual([]);

    const stream = new StreamClient({ url: api!.server.url, query: { team: teamX }, credential: { bearer: await issuer.mint({ subject: 'xavier', groups: ['team-x'] }) } });
    await stream.opened;
    await eventually(() => expect(stream.messages[0]?.type).toBe('snapshot'));
    expect(JSON.stringify(stream.messages)).not.toContain('checkout');
    stream.ws.terminate();

    // Straight at the API server as team X (kubectl with X's identity): RBAC says no.
    const asX = KubeClients.fromKubeConfig(new ImpersonatingKubeConfig(adminKubeConfig(), { user: 'xavier', groups: ['team-x'] }));
    const err = await asX
      .request({ method: 'POST', path: `/apis/${API}/namespaces/${ns}/webservices`, body: { apiVersion: API, kind: 'WebService', metadata: { name: 'evil' }, spec: { image: 'ghcr.io/x/evil:1' } } })
      .catch((e: unknown) => e);
    expect(toKubeApiError(err)?.statusCode).toBe(403);
    const nsErr = await asX
      .request({ method: 'PATCH', path: `/api/v1/namespaces/${ns}`, contentType: 'application/merge-patch+json', body: { metadata: { labels: { 'paved.dev/team': teamX } } } })
      .catch((e: unknown) => e);
    expect(toKubeApiError(nsErr)?.statusCode).toBe(403);

    // Team A still reads its service; nothing of team A changed.
    const a = await call(`/api/v1/teams/${teamA}/webservices`, ['team-a']);
    expect(a.status).toBe(200);
    expect(a.json.items.map((v: { name: string }) => v.name)).toEqual(['checkout']);
    expect((await call(`/api/v1/teams/${teamA}`, ['team-a'])).json.namespaces).toEqual([ns]);
    expect(await rv('v1', 'Namespace', ns)).toBe(before.namespace);
    expect(await rv(API, 'WebService', 'checkout', ns)).toBe(before.webService);
    expect(await rv('networking.k8s.io/v1', 'NetworkPolicy', 'paved-default-deny-ingress', ns)).toBe(before.policy);
  });
});
