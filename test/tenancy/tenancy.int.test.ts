/**
 * Team -> tenant against the real API server: the tenancy controller runs in this process (no leader
 * election) and handles only the Teams of this file (ownsTeam), so parallel files cannot interfere.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Team } from '../../src/api/index.js';
import {
  EventRecorder,
  KubeClients,
  metricsRegistry,
  serviceAccountUser,
  toKubeApiError,
  type ReconcileOutcome,
} from '../../src/kube/index.js';
import { startTenancyController, type RunningTenancyController, type TenancyConfig } from '../../src/tenancy/controller.js';
import { TEAM_FINALIZER } from '../../src/tenancy/reconcile.js';
import { adminKubeConfig, clusterInfo, identityKubeConfig } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';

const run = randomBytes(2).toString('hex');
const prefix = `t${run}`;
const admin = KubeClients.fromKubeConfig(adminKubeConfig());
const config: TenancyConfig = {
  PAVED_GATEWAY_NAMESPACE: 'gateway-system',
  PAVED_MONITORING_NAMESPACE: 'monitoring',
  PAVED_ORPHAN_GRACE_SECONDS: 5,
  PAVED_RESYNC_SECONDS: 600,
  PAVED_WORKERS: 4,
};

let tc: RunningTenancyController;
let controllerClients: KubeClients;
const outcomes: Array<{ key: string; outcome: ReconcileOutcome; at: number }> = [];
const created: string[] = [];

type AnyObj = KubernetesObject & Record<string, any>;

function teamName(suffix: string): string {
  return `${prefix}-${suffix}`;
}

async function createTeam(name: string, spec: Partial<Team['spec']> = {}): Promise<Team> {
  created.push(name);
  return admin.request<Team>({
    method: 'POST',
    path: '/apis/paved.dev/v1alpha1/teams',
    body: {
      apiVersion: 'paved.dev/v1alpha1',
      kind: 'Team',
      metadata: { name },
      spec: { owners: { groups: ['team-a'] }, costCenter: 'CC-42', quota: { tier: 'small' }, ...spec },
    },
  });
}

async function getTeam(name: string): Promise<Team | undefined> {
  return admin.get<Team>({ apiVersion: 'paved.dev/v1alpha1', kind: 'Team', name });
}

async function patchTeam(name: string, patch: Record<string, unknown>): Promise<void> {
  await admin.request({
    method: 'PATCH',
    path: `/apis/paved.dev/v1alpha1/teams/${name}`,
    body: patch,
    contentType: 'application/merge-patch+json',
  });
}

async function get(apiVersion: string, kind: string, name: string, namespace?: string): Promise<AnyObj | undefined> {
  return admin.get<AnyObj>({ apiVersion, kind, name, ...(namespace ? { namespace } : {}) });
}

function condition(team: Team | undefined, type: string) {
  return team?.status?.conditions?.find((c) => c.type === type);
}

/** Waits until the Team is Ready for its current generation and, optionally, settled (Progressing False). */
async function waitReady(name: string, opts: { settled?: boolean } = {}): Promise<Team> {
  return eventually(
    async () => {
      const team = await getTeam(name);
      expect(team?.status?.observedGeneration).toBe(team?.metadata?.generation);
      expect(condition(team, 'Ready')?.status, JSON.stringify(team?.status?.conditions)).toBe('True');
      if (opts.settled) expect(condition(team, 'Progressing')?.status).toBe('False');
      return team!;
    },
    { timeoutMs: 90_000 },
  );
}

async function gone(apiVersion: string, kind: string, name: string): Promise<void> {
  await eventually(async () => expect(await get(apiVersion, kind, name)).toBeUndefined(), { timeoutMs: 120_000 });
}

beforeAll(async () => {
  controllerClients = KubeClients.fromKubeConfig(adminKubeConfig());
  tc = await startTenancyController({
    clients: controllerClients,
    config,
    events: new EventRecorder(controllerClients, { controller: 'paved.dev/tenancy', instance: `test-${run}` }),
    ownsTeam: (name) => name.startsWith(`${prefix}-`),
    onOutcome: (key, outcome) => outcomes.push({ key, outcome, at: Date.now() }),
  });
});

afterAll(async () => {
  // Let the controller run the Teams' finalizers, deleting their namespaces.
  await Promise.all(
    created.map(async (name) => {
      await patchTeam(name, { spec: { deletionPolicy: 'Delete' } }).catch(() => undefined);
      await admin.delete({ apiVersion: 'paved.dev/v1alpha1', kind: 'Team', name }).catch(() => undefined);
    }),
  );
  await Promise.all(created.map((name) => gone('paved.dev/v1alpha1', 'Team', name).catch(() => undefined)));
  await tc?.stop();
});

describe('tenancy controller (real API server)', () => {
  it('turns a Team into namespaces with labels, quota, limits, network policies and RBAC', async () => {
    const name = teamName('shop');
    await createTeam(name, {
      environments: ['prod', 'dev'],
      members: { users: ['carol'] },
      costCenter: 'CC-7',
    });
    const team = await waitReady(name);
    expect(team.metadata?.finalizers).toContain(TEAM_FINALIZER);

    for (const env of ['dev', 'prod']) {
      const nsName = `${name}-${env}`;
      const ns = await get('v1', 'Namespace', nsName);
      expect(ns?.metadata?.labels).toMatchObject({
        'app.kubernetes.io/managed-by': 'paved',
        'paved.dev/team': name,
        'paved.dev/cost-center': 'CC-7',
        'paved.dev/environment': env,
      });
      const quota = await get('v1', 'ResourceQuota', 'paved-quota', nsName);
      expect(quota?.spec.hard).toMatchObject({ 'requests.cpu': '2', 'limits.cpu': '4', 'requests.memory': '4Gi', pods: '20' });
      const limits = await get('v1', 'LimitRange', 'paved-limits', nsName);
      expect(limits?.spec.limits[0]).toMatchObject({
        type: 'Container',
        max: { cpu: '4', memory: '8Gi' },
        default: { cpu: '500m', memory: '512Mi' },
        defaultRequest: { cpu: '100m', memory: '128Mi' },
      });
      const deny = await get('networking.k8s.io/v1', 'NetworkPolicy', 'paved-default-deny-ingress', nsName);
      expect(deny?.spec).toMatchObject({ podSelector: {}, policyTypes: ['Ingress'] });
      const gw = await get('networking.k8s.io/v1', 'NetworkPolicy', 'paved-allow-from-gateway', nsName);
      expect(gw?.spec.ingress).toEqual([{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'gateway-system' } } }] }]);
      const mon = await get('networking.k8s.io/v1', 'NetworkPolicy', 'paved-allow-from-monitoring', nsName);
      expect(mon?.spec.ingress[0].from[0].namespaceSelector.matchLabels).toEqual({ 'kubernetes.io/metadata.name': 'monitoring' });
      const dns = await get('networking.k8s.io/v1', 'NetworkPolicy', 'paved-allow-dns-egress', nsName);
      expect(dns?.spec.egress[0].ports).toEqual([
        { protocol: 'UDP', port: 53 },
        { protocol: 'TCP', port: 53 },
      ]);
      expect(await get('networking.k8s.io/v1', 'NetworkPolicy', 'paved-allow-same-namespace', nsName)).toBeDefined();
      const role = await get('rbac.authorization.k8s.io/v1', 'Role', 'paved-team', nsName);
      expect(JSON.stringify(role?.rules)).not.toContain('secrets');
      const owners = await get('rbac.authorization.k8s.io/v1', 'RoleBinding', 'paved-team-owners', nsName);
      expect(owners?.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'team-a' }]);
      const members = await get('rbac.authorization.k8s.io/v1', 'RoleBinding', 'paved-team-members', nsName);
      expect(members?.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'carol' }]);
      const sa = await get('v1', 'ServiceAccount', 'paved-deployer', nsName);
      expect(sa?.automountServiceAccountToken).toBe(false);
      const deployerBinding = await get('rbac.authorization.k8s.io/v1', 'RoleBinding', 'paved-deployer', nsName);
      expect(deployerBinding?.subjects).toEqual([{ kind: 'ServiceAccount', name: 'paved-deployer', namespace: nsName }]);
    }

    // Status: the namespaces with their quota as the quota controller reports it.
    const withQuota = await eventually(async () => {
      const t = await getTeam(name);
      expect(t?.status?.namespaces?.map((n) => [n.name, n.environment, n.phase])).toEqual([
        [`${name}-dev`, 'dev', 'Active'],
        [`${name}-prod`, 'prod', 'Active'],
      ]);
      for (const ns of t?.status?.namespaces ?? []) {
        expect(ns.quota?.hard?.['requests.cpu']).toBe('2');
        expect(ns.quota?.used?.['requests.cpu']).toBe('0');
      }
      return t!;
    });
    expect(condition(withQuota, 'Degraded')?.status).toBe('False');

    // Events on transitions (cluster-scoped objects get theirs in `default`).
    await eventually(async () => {
      const events = await admin.list<AnyObj>('events.k8s.io/v1', 'Event', { namespace: 'default', fieldSelector: `regarding.name=${name}` });
      expect(events.items.filter((e) => e.reason === 'NamespacesReady' && e.reportingController === 'paved.dev/tenancy')).toHaveLength(1);
    });
  });

  it('writes into team namespaces only as the namespace deployer, which cannot write elsewhere', async () => {
    const a = teamName('wa');
    const b = teamName('wb');
    await Promise.all([createTeam(a), createTeam(b)]);
    await Promise.all([waitReady(a), waitReady(b)]);

    const deployerA = admin.impersonate(serviceAccountUser(a, 'paved-deployer'));
    const cm = (namespace: string) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'probe', namespace },
      data: { x: '1' },
    });
    const tryCreate = async (clients: KubeClients, path: string, body: unknown) =>
      clients.request({ method: 'POST', path, query: { dryRun: 'All' }, body }).then(
        () => 201,
        (err: unknown) => toKubeApiError(err)?.statusCode ?? 0,
      );
    expect(await tryCreate(deployerA, `/api/v1/namespaces/${a}/configmaps`, cm(a))).toBe(201);
    expect(await tryCreate(deployerA, `/api/v1/namespaces/${b}/configmaps`, cm(b))).toBe(403);
    expect(await tryCreate(deployerA, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `${a}-x` } })).toBe(403);
    expect(
      await deployerA.get({ apiVersion: 'v1', kind: 'Secret', namespace: a, name: 'anything' }).then(
        () => 200,
        (err: unknown) => toKubeApiError(err)?.statusCode,
      ),
    ).toBe(403);

    // The API server's audit log says who wrote what: the quota as the deployer, the namespace as the controller.
    const auditLog = clusterInfo().auditLog;
    if (clusterInfo().provider === 'local') {
      expect(auditLog).toBeTruthy();
      await eventually(async () => {
        const events = (await readFile(auditLog!, 'utf8'))
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as AnyObj)
          .filter((e) => e.stage === 'ResponseComplete' && e.responseStatus?.code < 300);
        const quotaWrites = events.filter((e) => e.objectRef?.resource === 'resourcequotas' && e.objectRef?.namespace === a && e.verb === 'patch');
        expect(quotaWrites.length).toBeGreaterThan(0);
        for (const e of quotaWrites) expect(e.impersonatedUser?.username).toBe(serviceAccountUser(a, 'paved-deployer'));
        const teamObjects = ['limitranges', 'networkpolicies', 'roles', 'rolebindings'];
        const deployerWrites = events.filter(
          (e) => e.objectRef?.namespace === a && teamObjects.includes(e.objectRef?.resource) && e.objectRef?.name?.startsWith('paved-team'),
        );
        for (const e of deployerWrites) expect(e.impersonatedUser?.username).toBe(serviceAccountUser(a, 'paved-deployer'));
        const nsWrites = events.filter((e) => e.objectRef?.resource === 'namespaces' && e.objectRef?.name === a && e.verb === 'patch');
        expect(nsWrites.length).toBeGreaterThan(0);
        for (const e of nsWrites) expect(e.impersonatedUser).toBeUndefined();
      });
    }
  });

  it('lets a team member create a WebService in its own namespace and forbids it in another team’s', async () => {
    const own = teamName('alpha');
    const other = teamName('beta');
    await Promise.all([createTeam(own, { owners: { groups: ['team-a'] } }), createTeam(other, { owners: { groups: ['team-b'] } })]);
    await Promise.all([waitReady(own), waitReady(other)]);
    const alice = KubeClients.fromKubeConfig(identityKubeConfig('alice'));

    const body = (namespace: string) => ({
      apiVersion: 'paved.dev/v1alpha1',
      kind: 'WebService',
      metadata: { name: 'web', namespace },
      spec: { image: 'registry.example.com/web:1.0.0' },
    });
    // Server-side dry run: RBAC and admission run as for a real create, and no WebService is left behind.
    const create = (namespace: string) =>
      alice
        .request({ method: 'POST', path: `/apis/paved.dev/v1alpha1/namespaces/${namespace}/webservices`, query: { dryRun: 'All' }, body: body(namespace) })
        .then(
          () => 201,
          (err: unknown) => {
            const e = toKubeApiError(err);
            return e?.statusCode === 403 ? 403 : `${e?.statusCode}: ${e?.message}`;
          },
        );
    // RBAC may take a moment to reach the authorizer's cache.
    await eventually(async () => expect(await create(own)).toBe(201));
    expect(await create(other)).toBe(403);
    // Reading workloads is fine; Secrets are not.
    await alice.list('v1', 'Pod', { namespace: own });
    await expect(alice.list('v1', 'Secret', { namespace: own })).rejects.toMatchObject({ statusCode: 403 });
    await expect(alice.list('v1', 'Pod', { namespace: other })).rejects.toMatchObject({ statusCode: 403 });
  });

  it('applies a quota edit', async () => {
    const name = teamName('grow');
    await createTeam(name);
    await waitReady(name);
    await patchTeam(name, { spec: { quota: { tier: 'medium' } } });
    await eventually(async () => {
      const quota = await get('v1', 'ResourceQuota', 'paved-quota', name);
      expect(quota?.spec.hard).toMatchObject({ 'requests.cpu': '8', 'limits.cpu': '16', 'requests.memory': '16Gi', pods: '60' });
      const limits = await get('v1', 'LimitRange', 'paved-limits', name);
      expect(limits?.spec.limits[0].max).toEqual({ cpu: '8', memory: '16Gi' });
    });
    await patchTeam(name, { spec: { quota: { tier: null, cpu: '3', memory: '6Gi', pods: 9, storage: '30Gi' } } });
    await eventually(async () => {
      const quota = await get('v1', 'ResourceQuota', 'paved-quota', name);
      expect(quota?.spec.hard).toMatchObject({ 'requests.cpu': '3', 'limits.cpu': '6', 'requests.memory': '6Gi', pods: '9', 'requests.storage': '30Gi' });
    });
    const team = await waitReady(name);
    expect(team.status?.observedGeneration).toBe(3);
  });

  it('repairs hand edits of what it manages', async () => {
    const name = teamName('drift');
    await createTeam(name);
    await waitReady(name);
    const merge = async (path: string, body: unknown) =>
      admin.request({ method: 'PATCH', path, body, contentType: 'application/merge-patch+json' });
    await merge(`/api/v1/namespaces/${name}/resourcequotas/paved-quota`, { spec: { hard: { 'requests.cpu': '100' } } });
    await merge(`/api/v1/namespaces/${name}`, { metadata: { labels: { 'paved.dev/cost-center': 'STOLEN' } } });
    await admin.delete({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', namespace: name, name: 'paved-default-deny-ingress' });
    await eventually(async () => {
      expect((await get('v1', 'ResourceQuota', 'paved-quota', name))?.spec.hard['requests.cpu']).toBe('2');
      expect((await get('v1', 'Namespace', name))?.metadata?.labels?.['paved.dev/cost-center']).toBe('CC-42');
      expect(await get('networking.k8s.io/v1', 'NetworkPolicy', 'paved-default-deny-ingress', name)).toBeDefined();
    });
  });

  it('makes zero API writes in a steady-state resync', async () => {
    const name = teamName('steady');
    await createTeam(name, { environments: ['a', 'b', 'c'] });
    await waitReady(name, { settled: true });
    // Settled also means the quota controller has filled in the quota status the Team reports.
    await eventually(async () => {
      const t = await getTeam(name);
      expect(t?.status?.namespaces?.every((n) => n.quota?.hard?.['requests.cpu'] === '2')).toBe(true);
      expect(condition(t, 'Progressing')?.status).toBe('False');
    });
    // Give the controller's caches time to catch up with its own last writes, then resync everything.
    await eventually(() => expect(tc.controller.queue.len() + tc.controller.queue.processingCount() + tc.controller.queue.delayedCount()).toBe(0));
    await new Promise((r) => setTimeout(r, 1000));
    controllerClients.counter.reset();
    const since = Date.now();
    for (const informer of tc.informers) informer.resync();
    await eventually(() => {
      expect(outcomes.some((o) => o.key === name && o.at >= since)).toBe(true);
      expect(tc.controller.queue.len() + tc.controller.queue.processingCount()).toBe(0);
    });
    expect(controllerClients.counter.writes(), JSON.stringify(controllerClients.counter.snapshot())).toBe(0);
  });

  it('converges after a controller is killed half-way through provisioning', async () => {
    const crashPrefix = `c${run}-`;
    const name = `${crashPrefix}half`;
    let writes = 0;
    let dead = false;
    const crashing = await startTenancyController({
      clients: KubeClients.fromKubeConfig(adminKubeConfig()),
      config,
      ownsTeam: (n) => n.startsWith(crashPrefix),
      beforeWrite: () => {
        // finalizer, Namespace, SA, Role, RoleBinding, ResourceQuota go through; then the process "dies".
        if (dead || ++writes > 6) {
          dead = true;
          throw new Error('killed');
        }
      },
    });
    await createTeam(name, { environments: ['only'] });
    await eventually(() => expect(dead).toBe(true));
    await crashing.stop();
    // Half-way: the namespace and its deployer exist, the rest does not.
    const ns = `${name}-only`;
    expect(await get('v1', 'Namespace', ns)).toBeDefined();
    expect(await get('rbac.authorization.k8s.io/v1', 'RoleBinding', 'paved-deployer', ns)).toBeDefined();
    expect(await get('v1', 'LimitRange', 'paved-limits', ns)).toBeUndefined();
    expect(condition(await getTeam(name), 'Ready')?.status).not.toBe('True');

    const fresh = await startTenancyController({
      clients: KubeClients.fromKubeConfig(adminKubeConfig()),
      config,
      ownsTeam: (n) => n.startsWith(crashPrefix),
    });
    try {
      await waitReady(name);
      expect(await get('v1', 'LimitRange', 'paved-limits', ns)).toBeDefined();
      expect(await get('rbac.authorization.k8s.io/v1', 'RoleBinding', 'paved-team-members', ns)).toBeDefined();
      await patchTeam(name, { spec: { deletionPolicy: 'Delete' } });
      await admin.delete({ apiVersion: 'paved.dev/v1alpha1', kind: 'Team', name });
      await gone('paved.dev/v1alpha1', 'Team', name);
    } finally {
      await fresh.stop();
    }
  });

  it('deletes the namespaces of a Team with deletionPolicy Delete, and of a removed environment', async () => {
    const name = teamName('del');
    await createTeam(name, { environments: ['dev', 'prod'], deletionPolicy: 'Delete' });
    await waitReady(name);
    await patchTeam(name, { spec: { environments: ['dev'] } });
    await gone('v1', 'Namespace', `${name}-prod`);
    expect(await get('v1', 'Namespace', `${name}-dev`)).toBeDefined();
    await admin.delete({ apiVersion: 'paved.dev/v1alpha1', kind: 'Team', name });
    await gone('v1', 'Namespace', `${name}-dev`);
    await gone('paved.dev/v1alpha1', 'Team', name);
  });

  it('keeps and releases the namespaces of a Team with deletionPolicy Retain', async () => {
    const name = teamName('keep');
    await createTeam(name);
    await waitReady(name);
    await admin.delete({ apiVersion: 'paved.dev/v1alpha1', kind: 'Team', name });
    await gone('paved.dev/v1alpha1', 'Team', name);
    const ns = await get('v1', 'Namespace', name);
    expect(ns?.metadata?.deletionTimestamp).toBeUndefined();
    expect(ns?.metadata?.labels?.['app.kubernetes.io/managed-by']).toBeUndefined();
    expect(ns?.metadata?.labels).toMatchObject({ 'paved.dev/team': name, 'paved.dev/cost-center': 'CC-42' });
    expect(ns?.metadata?.annotations?.['paved.dev/retained']).toBe('true');
    // The team's workloads keep their quota and policies.
    expect(await get('v1', 'ResourceQuota', 'paved-quota', name)).toBeDefined();
    // Released, so not an orphan.
    await new Promise((r) => setTimeout(r, 500));
    expect(tc.orphanCount()).toBe(0);
    await admin.delete({ apiVersion: 'v1', kind: 'Namespace', name });
  });

  it('reports orphan namespaces in a metric and removes them after the grace period', async () => {
    const ghost = teamName('ghost');
    const nsName = `${ghost}-dev`;
    await admin.request({
      method: 'POST',
      path: '/api/v1/namespaces',
      body: {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: nsName,
          labels: { 'app.kubernetes.io/managed-by': 'paved', 'paved.dev/team': ghost, 'paved.dev/environment': 'dev' },
        },
      },
    });
    await eventually(async () => {
      const ns = await get('v1', 'Namespace', nsName);
      expect(ns?.metadata?.annotations?.['paved.dev/orphaned-at']).toBeTruthy();
      expect(tc.orphanCount()).toBe(1);
      expect(await metricsRegistry.getSingleMetricAsString('paved_orphan_namespaces')).toMatch(/^paved_orphan_namespaces [1-9]/m);
    });
    await eventually(
      async () => {
        const ns = await get('v1', 'Namespace', nsName);
        expect(ns === undefined || !!ns.metadata?.deletionTimestamp).toBe(true);
      },
      { timeoutMs: 60_000 },
    );
    expect(tc.orphanCount()).toBe(0);
  });

  it('refuses to take over a namespace that is not its own', async () => {
    const name = teamName('taken');
    await admin.request({ method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });
    try {
      await createTeam(name);
      const team = await eventually(async () => {
        const t = await getTeam(name);
        expect(condition(t, 'Degraded')).toMatchObject({ status: 'True', reason: 'NamespaceConflict' });
        return t!;
      });
      expect(condition(team, 'Ready')?.status).toBe('False');
      expect(condition(team, 'Degraded')?.message).toContain(`namespace ${name} already exists and is not managed by paved`);
      const ns = await get('v1', 'Namespace', name);
      expect(ns?.metadata?.labels?.['paved.dev/team']).toBeUndefined();
      expect(await get('v1', 'ResourceQuota', 'paved-quota', name)).toBeUndefined();
    } finally {
      await admin.delete({ apiVersion: 'v1', kind: 'Namespace', name });
    }
  });
});
