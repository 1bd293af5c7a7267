import { CoreV1Api, RbacAuthorizationV1Api, type V1ConfigMap, type V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { adminKubeConfig, createTestNamespace } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import {
  APPLIED_HASH_ANNOTATION,
  EventRecorder,
  KubeClients,
  Reasons,
  addFinalizer,
  applyObject,
  createInformer,
  isForbidden,
  readyCondition,
  removeFinalizer,
  serviceAccountUser,
  setCondition,
  writeStatus,
} from '../../src/kube/index.js';

function configMap(ns: string, name: string, data: Record<string, string>, labels: Record<string, string> = {}): V1ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels }, data };
}

/** A plain JSON merge patch as another actor (not counted by the clients under test). */
async function mergePatch(ns: string, name: string, body: unknown): Promise<void> {
  await KubeClients.fromKubeConfig(adminKubeConfig()).request({
    method: 'PATCH',
    path: `/api/v1/namespaces/${ns}/configmaps/${name}`,
    contentType: 'application/merge-patch+json',
    body,
  });
}

describe('writes (real API server)', () => {
  it('server-side apply: the same intent twice sends one write and keeps the resourceVersion', async () => {
    const ns = await createTestNamespace('kube-apply');
    const clients = KubeClients.fromKubeConfig(adminKubeConfig());
    const first = await applyObject(clients, configMap(ns, 'cm', { a: '1', b: '2' }, { team: 'x' }));
    expect(first).toMatchObject({ sent: true, changed: true });
    const rv = first.object.metadata?.resourceVersion;
    expect(clients.counter.writes()).toBe(1);

    const second = await applyObject(clients, configMap(ns, 'cm', { b: '2', a: '1' }, { team: 'x' }));
    expect(second).toMatchObject({ sent: false, changed: false });
    expect(clients.counter.writes()).toBe(1);
    const live = await clients.get<V1ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'cm' });
    expect(live?.metadata?.resourceVersion).toBe(rv);
    expect(live?.metadata?.managedFields?.map((f) => f.manager)).toContain('paved');

    // With the live object from a cache, no read is needed either.
    const reads = clients.counter.count({ verb: 'get' });
    expect((await applyObject(clients, configMap(ns, 'cm', { a: '1', b: '2' }, { team: 'x' }), { current: live })).sent).toBe(false);
    expect(clients.counter.count({ verb: 'get' })).toBe(reads);

    // Drift on a field paved owns is corrected; a field dropped from the intent is removed (SSA).
    await mergePatch(ns, 'cm', { data: { a: 'drifted', other: 'theirs' } });
    const fixed = await applyObject(clients, configMap(ns, 'cm', { a: '1', b: '2' }, { team: 'x' }));
    expect(fixed.sent).toBe(true);
    expect(fixed.object.data).toEqual({ a: '1', b: '2', other: 'theirs' });
    const dropped = await applyObject(clients, configMap(ns, 'cm', { a: '1' }, { team: 'x' }));
    expect(dropped.sent).toBe(true);
    expect(dropped.object.data).toEqual({ a: '1', other: 'theirs' });
    expect(dropped.object.metadata?.annotations?.[APPLIED_HASH_ANNOTATION]).toMatch(/^[0-9a-f]{16}$/);
    expect(clients.counter.writes({ resource: 'configmaps' })).toBe(3);
  });

  it('typed clients and KubernetesObjectApi share the counted transport', async () => {
    const ns = await createTestNamespace('kube-typed');
    const clients = KubeClients.fromKubeConfig(adminKubeConfig());
    const core = clients.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'typed' }, data: { a: '1' } } });
    const read = await core.readNamespacedConfigMap({ namespace: ns, name: 'typed' });
    expect(read.data).toEqual({ a: '1' });
    const viaObjects = await clients.objects.read<V1ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'typed', namespace: ns } });
    expect(viaObjects.data).toEqual({ a: '1' });
    expect(clients.counter.count({ verb: 'create', resource: 'configmaps' })).toBe(1);
    expect(clients.counter.count({ verb: 'get', resource: 'configmaps' })).toBe(2);
    expect(clients.counter.writes()).toBe(1);
  });

  it('status writer patches the status subresource only when the status changed', async () => {
    const ns = await createTestNamespace('kube-status');
    const clients = KubeClients.fromKubeConfig(adminKubeConfig());
    const { object: svc } = await applyObject<V1Service>(clients, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'svc', namespace: ns },
      spec: { ports: [{ port: 80, protocol: 'TCP' }], selector: { app: 'x' } },
    });
    const conditions = setCondition(undefined, readyCondition(true, Reasons.Reconciled, 'ok', 1), new Date());
    const status = { conditions, loadBalancer: {} };
    const first = await writeStatus(clients, svc, status);
    expect(first.changed).toBe(true);
    expect(first.object?.status?.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'True', reason: 'Reconciled' });
    const writes = clients.counter.writes();
    expect(clients.counter.count({ verb: 'patch', resource: 'services/status' })).toBe(1);

    // Same status again (conditions recomputed: the transition time is kept) -> no request at all.
    const again = setCondition(first.object?.status?.conditions as never, readyCondition(true, Reasons.Reconciled, 'ok', 1), new Date(Date.now() + 60_000));
    const second = await writeStatus(clients, first.object as V1Service, { conditions: again, loadBalancer: {} });
    expect(second.changed).toBe(false);
    expect(clients.counter.writes()).toBe(writes);

    const changed = setCondition(again, readyCondition(false, Reasons.ReconcileFailed, 'boom', 2), new Date());
    const third = await writeStatus(clients, first.object as V1Service, { conditions: changed, loadBalancer: {} });
    expect(third.changed).toBe(true);
    expect(third.object?.status?.conditions?.[0]).toMatchObject({ status: 'False', reason: 'ReconcileFailed', observedGeneration: 2 });
    // The spec was not touched by the status writes.
    expect(third.object?.metadata?.generation).toBe(svc.metadata?.generation);
  });

  it('finalizers: add, keep others, remove with a test op even from a stale copy', async () => {
    const ns = await createTestNamespace('kube-finalizers');
    const clients = KubeClients.fromKubeConfig(adminKubeConfig());
    const { object: cm } = await applyObject(clients, configMap(ns, 'f', { a: '1' }));
    const withOurs = await addFinalizer(clients, cm, 'paved.dev/cleanup');
    expect(withOurs?.metadata?.finalizers).toEqual(['paved.dev/cleanup']);
    expect(await addFinalizer(clients, withOurs as V1ConfigMap, 'paved.dev/cleanup')).toBeUndefined(); // already there

    // Someone else puts a finalizer *before* ours; our copy is now stale (index 0 is theirs).
    await clients.request({
      method: 'PATCH',
      path: `/api/v1/namespaces/${ns}/configmaps/f`,
      contentType: 'application/json-patch+json',
      body: [{ op: 'add', path: '/metadata/finalizers/0', value: 'example.com/theirs' }],
    });
    const live = await clients.get<V1ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'f' });
    expect(live?.metadata?.finalizers).toEqual(['example.com/theirs', 'paved.dev/cleanup']);

    expect(await removeFinalizer(clients, withOurs as V1ConfigMap, 'paved.dev/cleanup')).toBe(true);
    const after = await clients.get<V1ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'f' });
    expect(after?.metadata?.finalizers).toEqual(['example.com/theirs']);
    expect(await removeFinalizer(clients, after as V1ConfigMap, 'paved.dev/cleanup')).toBe(false);
    await clients.request({ method: 'PATCH', path: `/api/v1/namespaces/${ns}/configmaps/f`, contentType: 'application/json-patch+json', body: [{ op: 'remove', path: '/metadata/finalizers' }] });
  });

  it('events are recorded on condition transitions only', async () => {
    const ns = await createTestNamespace('kube-events');
    const clients = KubeClients.fromKubeConfig(adminKubeConfig());
    const { object: cm } = await applyObject(clients, configMap(ns, 'ev', { a: '1' }));
    const recorder = new EventRecorder(clients, { instance: 'test' });
    const t = new Date();
    const before = setCondition(undefined, readyCondition(true, Reasons.Reconciled, 'ok'), t);
    expect(await recorder.recordConditionTransitions(cm, before, setCondition(before, readyCondition(true, Reasons.Reconciled, 'still ok'), t))).toBe(0);
    const failed = setCondition(before, readyCondition(false, Reasons.ReconcileFailed, 'quota missing'), t);
    expect(await recorder.recordConditionTransitions(cm, before, failed)).toBe(1);
    const events = await clients.request<{ items: Array<{ reason: string; type: string; note: string; regarding: { name: string; uid?: string } }> }>({
      method: 'GET',
      path: `/apis/events.k8s.io/v1/namespaces/${ns}/events`,
    });
    expect(events.items).toHaveLength(1);
    expect(events.items[0]).toMatchObject({ reason: 'ReconcileFailed', type: 'Warning', regarding: { name: 'ev', uid: cm.metadata?.uid } });
    expect(events.items[0]?.note).toContain('Ready True -> False: quota missing');
  });

  it('impersonation: a ServiceAccount identity can write where its Role allows and is forbidden elsewhere', async () => {
    const own = await createTestNamespace('kube-imp-own');
    const other = await createTestNamespace('kube-imp-other');
    const kc = adminKubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await core.createNamespacedServiceAccount({ namespace: own, body: { metadata: { name: 'paved-deployer' } } });
    await rbac.createNamespacedRole({
      namespace: own,
      body: { metadata: { name: 'deployer' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'create', 'patch'] }] },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: own,
      body: {
        metadata: { name: 'deployer' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'deployer' },
        subjects: [{ kind: 'ServiceAccount', name: 'paved-deployer', namespace: own }],
      },
    });
    const admin = KubeClients.fromKubeConfig(kc);
    const deployer = admin.impersonate(serviceAccountUser(own, 'paved-deployer'));
    expect(deployer.identity).toBe(`system:serviceaccount:${own}:paved-deployer`);

    // The API server itself says who we are.
    const review = await deployer.request<{ status: { userInfo: { username: string; groups: string[] } } }>({
      method: 'POST',
      path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    });
    expect(review.status.userInfo.username).toBe(`system:serviceaccount:${own}:paved-deployer`);
    expect(review.status.userInfo.groups).toContain(`system:serviceaccounts:${own}`);

    // Allowed in its namespace (RBAC eventually consistent: poll).
    await eventually(async () => {
      const res = await applyObject(deployer, configMap(own, 'ok', { a: '1' }));
      expect(res.sent).toBe(true);
    });
    // Forbidden in another namespace and for other kinds, although the admin could do both.
    const err = await applyObject(deployer, configMap(other, 'nope', { a: '1' })).catch((e: unknown) => e);
    expect(isForbidden(err)).toBe(true);
    const secretErr = await applyObject(deployer, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: own }, stringData: { a: 'b' } } as never).catch((e: unknown) => e);
    expect(isForbidden(secretErr)).toBe(true);
    expect(await admin.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: other, name: 'nope' })).toBeUndefined();

    // Watches impersonate too: an informer in the other namespace cannot list, one in its own syncs.
    const denied = createInformer<V1ConfigMap>({ clients: deployer, apiVersion: 'v1', kind: 'ConfigMap', namespace: other, backoff: { baseDelayMs: 50, maxDelayMs: 100 } });
    const allowed = createInformer<V1ConfigMap>({ clients: deployer, apiVersion: 'v1', kind: 'ConfigMap', namespace: own });
    await Promise.all([denied.start(), allowed.start()]);
    await allowed.waitForSync(30_000);
    await eventually(() => expect(denied.restarts).toBeGreaterThanOrEqual(2));
    expect(denied.hasSynced()).toBe(false);
    expect(allowed.get(`${own}/ok`)).toBeDefined();
    await Promise.all([denied.stop(), allowed.stop()]);
  });
});
