import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { KubeClients, LAST_APPLIED_ANNOTATION, cacheTransformFor, createInformerFactory, informerScopeKey, isSubset, stripForCache } from '../../src/kube/index.js';
import { CACHE_DIGEST_MIN_LENGTH } from '../../src/kube/cache-digest.js';

function clients(): KubeClients {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return KubeClients.fromKubeConfig(kc);
}

describe('the shared informer factory', () => {
  it('hands out one informer per (apiVersion, kind, namespace, selectors)', () => {
    const f = createInformerFactory({ clients: clients() });
    const a = f.informer({ apiVersion: 'apps/v1', kind: 'Deployment', labelSelector: 'app.kubernetes.io/managed-by=paved' });
    const b = f.informer({ apiVersion: 'apps/v1', kind: 'Deployment', labelSelector: 'app.kubernetes.io/managed-by=paved' });
    const c = f.informer({ apiVersion: 'apps/v1', kind: 'Deployment', labelSelector: 'other' });
    const d = f.informer({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'ns', labelSelector: 'app.kubernetes.io/managed-by=paved' });
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(d).not.toBe(a);
    expect(f.informers()).toHaveLength(3);
    expect(f.scopes()).toContain(informerScopeKey({ apiVersion: 'apps/v1', kind: 'Deployment', labelSelector: 'other' }));
  });

  it('merges the indexes of every consumer and refuses a second definition of one name', () => {
    const f = createInformerFactory({ clients: clients() });
    const byHost = (o: KubernetesObject) => [o.metadata?.name ?? ''];
    const inf = f.informer({ apiVersion: 'v1', kind: 'ConfigMap', indexers: { host: byHost } });
    f.informer({ apiVersion: 'v1', kind: 'ConfigMap', indexers: { host: byHost, other: () => ['x'] } });
    expect(inf.byIndex('host', 'nothing')).toEqual([]);
    expect(inf.byIndex('other', 'x')).toEqual([]);
    expect(() => f.informer({ apiVersion: 'v1', kind: 'ConfigMap', indexers: { host: () => [] } })).toThrow(/already defined/);
  });
});

describe('stripForCache', () => {
  it('drops managedFields and the last-applied annotation, keeping other annotations', () => {
    const obj = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'a',
        managedFields: [{ manager: 'kubectl' }],
        annotations: { [LAST_APPLIED_ANNOTATION]: '{"big":"json"}', keep: 'me' },
      },
    } as KubernetesObject;
    const out = stripForCache(obj);
    expect(out.metadata).toEqual({ name: 'a', annotations: { keep: 'me' } });
  });

  it('removes an annotations map left empty and leaves objects without metadata alone', () => {
    const obj = { metadata: { name: 'a', annotations: { [LAST_APPLIED_ANNOTATION]: '{}' } } } as KubernetesObject;
    expect(stripForCache(obj).metadata).toEqual({ name: 'a' });
    expect(stripForCache({ kind: 'X' })).toEqual({ kind: 'X' });
  });
});

describe('cacheTransformFor', () => {
  const wire = <T>(o: T): T => JSON.parse(JSON.stringify(o)) as T;

  it('drops what no reader looks at: unread statuses, ReplicaSet pod specs, Deployment conditions', () => {
    const hpa = cacheTransformFor('HorizontalPodAutoscaler')(wire({ kind: 'HorizontalPodAutoscaler', metadata: { name: 'a', managedFields: [{}] }, spec: { maxReplicas: 3 }, status: { conditions: [{ type: 'AbleToScale' }] } }));
    expect(hpa).toEqual({ kind: 'HorizontalPodAutoscaler', metadata: { name: 'a' }, spec: { maxReplicas: 3 } });
    const rs = cacheTransformFor('ReplicaSet')(
      wire({ kind: 'ReplicaSet', metadata: { name: 'r' }, spec: { replicas: 1, template: { metadata: { annotations: { 'paved.dev/revision': 'x' } }, spec: { containers: [{ name: 'c' }] } } }, status: { readyReplicas: 1, conditions: [{}] } }),
    );
    expect(rs).toEqual({ kind: 'ReplicaSet', metadata: { name: 'r' }, spec: { replicas: 1, template: { metadata: { annotations: { 'paved.dev/revision': 'x' } } } }, status: { readyReplicas: 1 } });
    const d = { kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { spec: { containers: [{ name: 'c', image: 'i' }] } } }, status: { readyReplicas: 2, conditions: [{ type: 'Available' }] } };
    expect(cacheTransformFor('Deployment')(wire(d))).toEqual({ ...d, status: { readyReplicas: 2 } });
    const quota = { kind: 'ResourceQuota', metadata: { name: 'q' }, status: { used: { cpu: '1' } } };
    expect(cacheTransformFor('ResourceQuota')(wire(quota))).toEqual(quota);
  });

  it('holds long ConfigMap values as digests that applyObject still matches against the intent', () => {
    const dashboard = JSON.stringify({ panels: Array.from({ length: 40 }, (_, i) => ({ id: i, title: `panel ${i}` })) });
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shop-dashboard' }, data: { 'shop.json': dashboard, short: 'yes' } };
    const cached = cacheTransformFor('ConfigMap')(wire(cm)) as typeof cm;
    expect(cached.data.short).toBe('yes');
    expect(cached.data['shop.json']).not.toBe(dashboard);
    expect(cached.data['shop.json'].length).toBeLessThan(64);
    expect(isSubset(cm, cached)).toBe(true);
    expect(isSubset({ ...cm, data: { 'shop.json': dashboard.replace('panel 3', 'panel 4') } }, cached)).toBe(false);
    // Other kinds keep long strings: a Deployment's live pod template is read back (the stable template).
    const env = 'x'.repeat(CACHE_DIGEST_MIN_LENGTH * 2);
    const d = { kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { spec: { containers: [{ name: 'c', env: [{ name: 'E', value: env }] }] } } } };
    expect(cacheTransformFor('Deployment')(wire(d))).toEqual(d);
  });

  it('keeps every value while sharing repeated strings', () => {
    const obj = { kind: 'Service', metadata: { name: 'a', labels: { app: 'shop' } }, spec: { ports: [{ protocol: 'TCP', port: 80 }], ipFamilies: ['IPv4'] } };
    expect(cacheTransformFor('Service')(wire(obj))).toEqual(obj);
  });
});
