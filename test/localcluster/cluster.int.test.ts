/**
 * The foundation, shown against the real local cluster: Deployments roll to Ready through the real
 * controller-manager, scheduler and kwok; server-side apply is idempotent; watches deliver; RBAC
 * holds; the third-party CRDs validate what paved will write.
 */
import { readFileSync } from 'node:fs';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  Watch,
  type KubernetesObject,
  type V1ConfigMap,
  type V1Deployment,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { adminKubeConfig, createTestNamespace, identityKubeConfig } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';

const kc = adminKubeConfig();
const apps = kc.makeApiClient(AppsV1Api);
const core = kc.makeApiClient(CoreV1Api);
const objects = kc.makeApiClient(KubernetesObjectApi);

function deployment(namespace: string, name: string, replicas: number): V1Deployment {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'web', image: 'registry.example/web:1.0.0' }] },
      },
    },
  };
}

describe('local cluster', () => {
  it('rolls a Deployment of 3 replicas to readyReplicas == 3', async () => {
    const ns = await createTestNamespace('foundation-deploy');
    await apps.createNamespacedDeployment({ namespace: ns, body: deployment(ns, 'web', 3) });
    const ready = await eventually(async () => {
      const d = await apps.readNamespacedDeployment({ name: 'web', namespace: ns });
      expect(d.status?.readyReplicas).toBe(3);
      return d;
    }, { timeoutMs: 90_000 });
    expect(ready.status?.availableReplicas).toBe(3);
    const pods = await core.listNamespacedPod({ namespace: ns });
    expect(pods.items).toHaveLength(3);
    for (const pod of pods.items) {
      expect(pod.spec?.nodeName).toMatch(/^paved-node-/); // bound by the real scheduler
      expect(pod.status?.phase).toBe('Running'); // made Running by kwok
    }
  });

  it('leaves resourceVersion unchanged when the same object is server-side applied twice', async () => {
    const ns = await createTestNamespace('foundation-ssa');
    const cm: V1ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: ns }, data: { a: '1' } };
    const apply = () =>
      objects.patch(cm, undefined, undefined, 'paved', true, PatchStrategy.ServerSideApply);
    const first = await apply();
    const second = await apply();
    expect(second.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
    const changed = await objects.patch(
      { ...cm, data: { a: '2' } } as KubernetesObject, undefined, undefined, 'paved', true, PatchStrategy.ServerSideApply,
    );
    expect(changed.metadata?.resourceVersion).not.toBe(first.metadata?.resourceVersion);
  });

  it('delivers an update to a watch', async () => {
    const ns = await createTestNamespace('foundation-watch');
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'watched' }, data: { v: '0' } } });
    const seen: string[] = [];
    const watch = new Watch(kc);
    const req = await watch.watch(`/api/v1/namespaces/${ns}/configmaps`, {}, (type, obj: V1ConfigMap) => {
      if (type === 'MODIFIED') seen.push(obj.data?.['v'] ?? '');
    }, () => {});
    try {
      // The watch is established once the initial ADDED has been sent; give it a moment, then write.
      await new Promise((r) => setTimeout(r, 300));
      await core.replaceNamespacedConfigMap({
        name: 'watched',
        namespace: ns,
        body: { metadata: { name: 'watched' }, data: { v: '1' } },
      });
      await eventually(() => expect(seen).toContain('1'), { timeoutMs: 5_000, intervalMs: 20 });
    } finally {
      req.abort();
    }
  });

  it('forbids a non-admin identity to list Secrets cluster-wide', async () => {
    const alice = identityKubeConfig('alice').makeApiClient(CoreV1Api);
    await expect(alice.listSecretForAllNamespaces()).rejects.toMatchObject({ code: 403 });
    // and the admin may
    await expect(core.listSecretForAllNamespaces()).resolves.toBeDefined();
  });
});

describe('third-party CRDs', () => {
  it('are the versions tools/crds/go.mod pins, installed from the Go module cache', async () => {
    const goMod = readFileSync(new URL('../../tools/crds/go.mod', import.meta.url), 'utf8');
    const pinned = (module: string) => new RegExp(`^\\s*${module.replaceAll('.', '\\.')} (v\\S+)$`, 'm').exec(goMod)?.[1];
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    const route = await ext.readCustomResourceDefinition({ name: 'httproutes.gateway.networking.k8s.io' });
    expect(route.metadata?.annotations?.['gateway.networking.k8s.io/bundle-version']).toBe(pinned('sigs.k8s.io/gateway-api'));
    const monitor = await ext.readCustomResourceDefinition({ name: 'servicemonitors.monitoring.coreos.com' });
    expect(`v${monitor.metadata?.annotations?.['operator.prometheus.io/version']}`).toBe(
      pinned('github.com/prometheus-operator/prometheus-operator'),
    );
    await expect(ext.readCustomResourceDefinition({ name: 'applications.argoproj.io' })).resolves.toBeDefined();
  });

  it('accepts a valid HTTPRoute and rejects an invalid one with the API server message', async () => {
    const ns = await createTestNamespace('foundation-route');
    const route = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'web', namespace: ns },
      spec: {
        parentRefs: [{ name: 'public', namespace: 'gateway-system' }],
        hostnames: ['web.example.com'],
        rules: [{ backendRefs: [{ name: 'web-stable', port: 80, weight: 90 }, { name: 'web-canary', port: 80, weight: 10 }] }],
      },
    };
    await expect(objects.create(route)).resolves.toMatchObject({ metadata: { name: 'web' } });
    const invalid = { ...route, metadata: { name: 'bad', namespace: ns }, spec: { ...route.spec, hostnames: ['not a host!'] } };
    const err = await objects.create(invalid).then(() => undefined, (e: unknown) => e as { code: number; body: string });
    expect(err?.code).toBe(422);
    expect(String(err?.body)).toMatch(/spec\.hostnames\[0\]/);
  });

  it('accepts a valid ServiceMonitor and rejects an invalid one with the API server message', async () => {
    const ns = await createTestNamespace('foundation-sm');
    const monitor = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: 'web', namespace: ns },
      spec: { selector: { matchLabels: { app: 'web' } }, endpoints: [{ port: 'http', path: '/metrics', interval: '15s' }] },
    };
    await expect(objects.create(monitor)).resolves.toMatchObject({ metadata: { name: 'web' } });
    const invalid = {
      ...monitor,
      metadata: { name: 'bad', namespace: ns },
      spec: { ...monitor.spec, endpoints: [{ port: 'http', scheme: 'gopher' }] },
    };
    const err = await objects.create(invalid).then(() => undefined, (e: unknown) => e as { code: number; body: string });
    expect(err?.code).toBe(422);
    expect(String(err?.body)).toMatch(/scheme/);
  });
});
