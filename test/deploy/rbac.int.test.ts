/**
 * The RBAC of deploy/paved is enough, and no more than that: paved's main.ts runs as a separate process
 * with the token of a `paved` ServiceAccount bound to exactly the shipped roles (test/deploy/manifests.ts
 * renames them for this run; rules untouched), provisions a Team to Ready, and is refused what the roles
 * do not grant. The audit log shows the writes were made by that ServiceAccount.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClients, serviceAccountUser } from '../../src/kube/index.js';
import { adminKubeConfig, clusterInfo } from '../support/cluster.js';
import { metricValue, type ControllerProcess } from '../support/controller-process.js';
import { eventually } from '../support/eventually.js';
import { compareWithCluster, createTeam, removeTeams, renderedNamespaces, teamWrites, waitReady } from '../process/teams.js';
import { statusOf, type ControllerIdentity } from './manifests.js';
import { startShippedController, type ShippedController } from './shipped-controller.js';

const run = randomBytes(3).toString('hex');
const admin = KubeClients.fromKubeConfig(adminKubeConfig());
const teams: string[] = [];
let shipped: ShippedController | undefined;
let namespace: string;
let identity: ControllerIdentity;
let controller: ControllerProcess;

beforeAll(async () => {
  shipped = await startShippedController(admin, { prefix: 'rbac', run });
  ({ namespace, identity, controller } = shipped);
});

// The Teams' finalizers need the controller: they are removed first, then it is stopped.
afterAll(() => shipped?.stop(teams));

describe('paved running as its ServiceAccount with the shipped RBAC', () => {
  it('starts: installs the CRDs, takes the Lease in its namespace and serves /readyz and /metrics', async () => {
    expect(controller.hasLogged('start-up failed')).toBe(false);
    expect(controller.hasLogged('installed CRDs')).toBe(true);
    const lease = await admin.get<Record<string, any>>({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      namespace,
      name: 'paved-controller',
    });
    expect(lease?.['spec']?.holderIdentity).toBe(controller.podName);
    const url = await controller.url();
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(metricValue(await controller.metrics(), 'paved_leader')).toBe(1);
  });

  it('writes the host map with the Role paved-host-map (create, then get/patch by name)', async () => {
    const map = await eventually(async () => {
      const cm = await admin.get<Record<string, any>>({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name: 'paved-hosts' });
      expect(cm).toBeDefined();
      return cm!;
    }, { timeoutMs: 60_000 });
    expect(map['metadata'].managedFields.map((m: { manager: string }) => m.manager)).toEqual(['paved-webservice']);
    expect(controller.hasLogged('host map written')).toBe(true);
  });

  it('provisions a Team with two environments to Ready, every object written by the ServiceAccount', async () => {
    const name = `rbac-${run}`;
    teams.push(name);
    await createTeam(admin, name, { environments: ['dev', 'prod'], members: { groups: ['team-b'] } });
    const team = await waitReady(admin, name, { settled: true });
    const comparison = await compareWithCluster(admin, team);
    expect(comparison.missing).toEqual([]);
    expect(comparison.different).toEqual([]);
    expect(comparison.matching).toHaveLength(comparison.total);

    // Who wrote: the namespaces and the bootstrap as the ServiceAccount, the rest as its impersonated deployer.
    const auditLog = clusterInfo().auditLog;
    if (clusterInfo().provider !== 'local' || !auditLog) return;
    const namespaces = renderedNamespaces(team);
    await eventually(async () => {
      const byController = (await teamWrites(auditLog, name, namespaces)).filter((w) => w.code < 300 && w.user === identity.username);
      expect(byController.filter((w) => w.resource === 'namespaces').length).toBeGreaterThanOrEqual(namespaces.length);
      expect(byController.filter((w) => w.resource === 'teams' && w.subresource === 'status').length).toBeGreaterThan(0);
      for (const ns of namespaces) {
        const quota = byController.filter((w) => w.namespace === ns && w.resource === 'resourcequotas');
        expect(quota.length).toBeGreaterThan(0);
        for (const w of quota) expect(w.impersonatedUser).toBe(serviceAccountUser(ns, 'paved-deployer'));
      }
    });
  });

  it('is refused what its roles do not grant', async () => {
    const as = identity.clients;
    // A namespace of the Team provisioned above.
    const teamNs = `rbac-${run}-dev`;
    expect(await statusOf(admin.request({ method: 'GET', path: `/api/v1/namespaces/${teamNs}` }))).toBe(200);
    // Secrets: neither in its own namespace, nor in a team's, nor cluster-wide.
    expect(await statusOf(as.request({ method: 'GET', path: `/api/v1/namespaces/${namespace}/secrets` }))).toBe(403);
    expect(await statusOf(as.request({ method: 'GET', path: `/api/v1/namespaces/${teamNs}/secrets` }))).toBe(403);
    expect(await statusOf(as.request({ method: 'GET', path: '/api/v1/secrets' }))).toBe(403);
    // No exec into pods, no ServiceAccount tokens.
    expect(
      await statusOf(as.request({ method: 'POST', path: `/api/v1/namespaces/${teamNs}/serviceaccounts/paved-deployer/token`, body: { spec: {} } })),
    ).toBe(403);
    // No cluster-wide RBAC, no CRDs but its own.
    expect(
      await statusOf(
        as.request({
          method: 'POST',
          path: '/apis/rbac.authorization.k8s.io/v1/clusterroles',
          query: { dryRun: 'All' },
          body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: `x-${run}` }, rules: [] },
        }),
      ),
    ).toBe(403);
    expect(
      await statusOf(as.request({ method: 'GET', path: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/httproutes.gateway.networking.k8s.io' })),
    ).toBe(403);
    // Impersonation of ServiceAccounts other than paved-deployer.
    const asDefault = as.impersonate(serviceAccountUser(teamNs, 'default'));
    expect(await statusOf(asDefault.request({ method: 'GET', path: `/api/v1/namespaces/${teamNs}/configmaps` }))).toBe(403);
    // Leases other than paved-controller.
    expect(
      await statusOf(as.request({ method: 'GET', path: `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/someone-else` })),
    ).toBe(403);
    // ...while what it needs is allowed (the same client, so the 403s above are about rights, not a broken token).
    expect(await statusOf(as.request({ method: 'GET', path: `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/paved-controller` }))).toBe(200);
    expect(await statusOf(as.impersonate(serviceAccountUser(teamNs, 'paved-deployer')).request({ method: 'GET', path: `/api/v1/namespaces/${teamNs}/configmaps` }))).toBe(200);
  });

  it('stops on SIGTERM with exit code 0 and releases the Lease', async () => {
    // Remove the Team while the controller still runs its finalizer.
    await removeTeams(admin, teams.splice(0));
    const exit = await controller.kill('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(controller.hasLogged('lease released')).toBe(true);
    const lease = await admin.get<Record<string, any>>({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace, name: 'paved-controller' });
    expect(lease?.['spec']?.holderIdentity ?? '').toBe('');
  });
});
