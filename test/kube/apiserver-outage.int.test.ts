/**
 * An informer survives a real API-server outage. This breaks the API server, so it runs on a fresh
 * cluster of its own (not the shared one): kube-apiserver is stopped for a few seconds, changes are made
 * while the informer is cut off (after the restart), and the informer catches up without a restart of ours.
 */
import { CoreV1Api, KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClients, createInformer, type Informer } from '../../src/kube/index.js';
import { startLocalCluster, type LocalCluster } from '../../src/localcluster/cluster.js';
import { eventually } from '../support/eventually.js';

describe('informer across a real API-server outage (fresh cluster)', () => {
  let cluster: LocalCluster;
  let informer: Informer<V1ConfigMap> | undefined;
  beforeAll(async () => {
    cluster = await startLocalCluster({ nodes: 1 });
  });
  afterAll(async () => {
    await informer?.stop();
    await cluster?.stop();
  });

  it('re-lists and resumes watching after kube-apiserver restarts, seeing what changed meanwhile', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'kept' }, data: { v: '1' } } });
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'doomed' }, data: { v: '1' } } });
    informer = createInformer<V1ConfigMap>({
      clients: KubeClients.fromKubeConfig(kc),
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: 'default',
      backoff: { baseDelayMs: 100, maxDelayMs: 1_000 },
    });
    const seen: string[] = [];
    informer.on('add', (o) => seen.push(`add ${o.metadata?.name}`));
    informer.on('update', (o) => seen.push(`update ${o.metadata?.name} ${o.data?.['v']}`));
    informer.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
    await informer.start();
    await informer.waitForSync(30_000);
    expect(informer.get('default/kept')?.data).toEqual({ v: '1' });

    await cluster.restartApiServer(3_000);

    // Changes after the restart: an update, a delete and a new object all reach the cache.
    await core.replaceNamespacedConfigMap({ name: 'kept', namespace: 'default', body: { metadata: { name: 'kept' }, data: { v: '2' } } });
    await core.deleteNamespacedConfigMap({ name: 'doomed', namespace: 'default' });
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'born' }, data: { v: '1' } } });
    await eventually(() => {
      expect(informer?.get('default/kept')?.data).toEqual({ v: '2' });
      expect(informer?.get('default/doomed')).toBeUndefined();
      expect(informer?.get('default/born')).toBeDefined();
    }, { timeoutMs: 60_000, intervalMs: 200 });
    expect(seen).toEqual(expect.arrayContaining(['update kept 2', 'delete doomed', 'add born']));
    expect(informer.hasSynced()).toBe(true);
  });
});
