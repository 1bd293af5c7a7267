import { randomBytes } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { adminKubeConfig } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import {
  KubeClients,
  Reasons,
  addFinalizer,
  applyObject,
  createInformer,
  readyCondition,
  removeFinalizer,
  setCondition,
  writeStatus,
  type Condition,
} from '../../src/kube/index.js';

interface Widget extends KubernetesObject {
  spec?: { size: number };
  status?: { observedGeneration?: number; conditions?: Condition[] };
}

const group = `kt${randomBytes(3).toString('hex')}.paved.dev`;
const apiVersion = `${group}/v1`;
const admin = KubeClients.fromKubeConfig(adminKubeConfig());

afterAll(async () => {
  await admin.delete({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: `widgets.${group}` });
});

describe('custom resources (real API server)', () => {
  it('informer, apply, status and finalizers work for a cluster-scoped CRD with a status subresource', async () => {
    // Started before its CRD exists: discovery fails and is retried with backoff until the kind is served.
    const clients = KubeClients.fromKubeConfig(adminKubeConfig());
    const informer = createInformer<Widget>({ clients, apiVersion, kind: 'Widget', backoff: { baseDelayMs: 100, maxDelayMs: 400 } });
    await informer.start();
    await eventually(() => expect(informer.restarts).toBeGreaterThanOrEqual(2));
    expect(informer.hasSynced()).toBe(false);

    await applyObject(admin, {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `widgets.${group}` },
      spec: {
        group,
        scope: 'Cluster',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            subresources: { status: {} },
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: { type: 'object', properties: { size: { type: 'integer' } } },
                  status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                },
              },
            },
          },
        ],
      },
    } as KubernetesObject);
    // Discovery picks up the new kind once the CRD is served (the cache refreshes on a miss).
    await eventually(async () => expect((await admin.resourceFor(apiVersion, 'Widget')).namespaced).toBe(false));

    await informer.waitForSync(30_000);

    const { object: w } = await applyObject<Widget>(clients, { apiVersion, kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 3 } });
    await eventually(() => expect(informer.get('w1')?.spec?.size).toBe(3));
    expect(informer.keys()).toEqual(['w1']);

    const cached = informer.get('w1') as Widget;
    const conditions = setCondition(undefined, readyCondition(true, Reasons.Reconciled, 'ok', w.metadata?.generation), new Date());
    expect((await writeStatus(clients, cached, { observedGeneration: w.metadata?.generation, conditions })).changed).toBe(true);
    await eventually(() => expect(informer.get('w1')?.status?.observedGeneration).toBe(1));

    // A second pass from the cache: same intent, same status -> no writes at all.
    clients.counter.reset();
    const again = informer.get('w1') as Widget;
    expect((await applyObject<Widget>(clients, { apiVersion, kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 3 } }, { current: again })).sent).toBe(false);
    const recomputed = setCondition(again.status?.conditions, readyCondition(true, Reasons.Reconciled, 'ok', 1), new Date(Date.now() + 5000));
    expect((await writeStatus(clients, again, { observedGeneration: 1, conditions: recomputed })).changed).toBe(false);
    expect(clients.counter.writes()).toBe(0);
    expect(clients.counter.totalRequests).toBe(0);

    // Finalizer round trip; deletion waits for it.
    const withFinalizer = await addFinalizer(clients, again, 'paved.dev/test');
    expect(withFinalizer?.metadata?.finalizers).toEqual(['paved.dev/test']);
    await clients.delete({ apiVersion, kind: 'Widget', name: 'w1' });
    await eventually(() => expect(informer.get('w1')?.metadata?.deletionTimestamp).toBeTruthy());
    expect(await removeFinalizer(clients, informer.get('w1') as Widget, 'paved.dev/test')).toBe(true);
    await eventually(() => expect(informer.get('w1')).toBeUndefined());
    await informer.stop();
  });
});
