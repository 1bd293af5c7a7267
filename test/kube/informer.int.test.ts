import { CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { adminKubeConfig, createTestNamespace } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { KubeClients, createInformer } from '../../src/kube/index.js';

/** A plain JSON merge patch as another actor (not counted by the clients under test). */
async function mergePatch(ns: string, name: string, body: unknown): Promise<void> {
  await KubeClients.fromKubeConfig(adminKubeConfig()).request({
    method: 'PATCH',
    path: `/api/v1/namespaces/${ns}/configmaps/${name}`,
    contentType: 'application/merge-patch+json',
    body,
  });
}

describe('Informer (real API server)', () => {
  it('sees create/update/delete, survives a forced watch error, resyncs and lists by label', async () => {
    const ns = await createTestNamespace('kube-informer');
    const kc = adminKubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const clients = KubeClients.fromKubeConfig(kc);
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'before', labels: { app: 'x' } }, data: { a: '1' } } });

    const informer = createInformer<V1ConfigMap>({
      clients,
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: ns,
      resyncPeriodMs: 300,
      backoff: { baseDelayMs: 50, maxDelayMs: 200 },
      indexers: { byApp: (cm) => (cm.metadata?.labels?.app ? [cm.metadata.labels.app] : []) },
    });
    const seen: string[] = [];
    let resyncs = 0;
    informer.on('add', (o) => seen.push(`add ${o.metadata?.name}`));
    informer.on('update', (o, old) => seen.push(`update ${o.metadata?.name} ${old?.data?.a}->${o.data?.a}`));
    informer.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
    informer.on('resync', () => resyncs++);
    expect(informer.hasSynced()).toBe(false);
    await informer.start();
    await informer.waitForSync(30_000);
    expect(informer.hasSynced()).toBe(true);
    expect(informer.get(`${ns}/before`)?.data).toEqual({ a: '1' });
    expect(informer.get(`${ns}/before`)?.metadata?.managedFields).toBeUndefined();
    expect(informer.get(`${ns}/before`)?.kind).toBe('ConfigMap');

    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'cm1', labels: { app: 'y' } }, data: { a: '1' } } });
    await eventually(() => expect(seen).toContain('add cm1'));
    await mergePatch(ns, 'cm1', { data: { a: '2' } });
    await eventually(() => expect(seen).toContain('update cm1 1->2'));
    expect(informer.listByLabels({ app: 'y' }).map((c) => c.metadata?.name)).toEqual(['cm1']);
    expect(informer.listByLabels('app in (x,y)', ns)).toHaveLength(2);
    expect(informer.byIndex('byApp', 'x').map((c) => c.metadata?.name)).toEqual(['before']);
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'cm1' });
    await eventually(() => expect(seen).toContain('delete cm1'));
    expect(informer.get(`${ns}/cm1`)).toBeUndefined();

    // A watch failure other than 410 stops client-node's ListWatch; ours restarts it.
    informer.forceWatchError();
    await eventually(() => expect(informer.restarts).toBe(1));
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'after-error' }, data: { a: '1' } } });
    await eventually(() => expect(seen).toContain('add after-error'));

    // And again, while a change happens during the outage (the restart resumes from the last resourceVersion).
    informer.forceWatchError();
    await mergePatch(ns, 'after-error', { data: { a: '3' } });
    await eventually(() => expect(informer.get(`${ns}/after-error`)?.data?.a).toBe('3'));
    expect(informer.restarts).toBe(2);

    // A 410 re-lists (no restart counted).
    informer.forceWatchError(Object.assign(new Error('gone'), { statusCode: 410 }));
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'after-410' } } });
    await eventually(() => expect(seen).toContain('add after-410'));
    expect(informer.restarts).toBe(2);

    await eventually(() => expect(resyncs).toBeGreaterThanOrEqual(informer.size() * 2));
    expect(clients.counter.count({ verb: 'watch' })).toBeGreaterThanOrEqual(4);
    expect(clients.counter.writes()).toBe(0);
    await informer.stop();
  });
});
