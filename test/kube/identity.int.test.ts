/**
 * Impersonation on the real API server: a user impersonated with two groups gets exactly the RBAC of
 * those groups, through a typed client, the generic object client (KubernetesObjectApi and KubeClients'
 * raw requests) and a watch. Only the SECOND group is bound, so an implementation that sends one group
 * (or joins them into one header) is refused; with the first group alone, or none, every path is refused.
 */
import { CoreV1Api, KubernetesObjectApi, RbacAuthorizationV1Api, Watch, type KubeConfig } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { ImpersonatingKubeConfig, KubeClients, isForbidden, type Identity } from '../../src/kube/index.js';
import { adminKubeConfig, createTestNamespace } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';

let ns: string;
let both: Identity;
let firstOnly: Identity;
let noGroups: Identity;

beforeAll(async () => {
  const admin = adminKubeConfig();
  ns = await createTestNamespace('identity');
  const g1 = `${ns}-g1`;
  const g2 = `${ns}-g2`;
  both = { user: `${ns}-user`, groups: [g1, g2] };
  firstOnly = { user: `${ns}-user`, groups: [g1] };
  noGroups = { user: `${ns}-user` };
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({
    namespace: ns,
    body: { metadata: { name: 'read-configmaps' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }] },
  });
  await rbac.createNamespacedRoleBinding({
    namespace: ns,
    body: {
      metadata: { name: 'read-configmaps' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-configmaps' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: g2 }],
    },
  });
  await admin.makeApiClient(CoreV1Api).createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'probe' }, data: { a: '1' } } });
});

const as = (identity: Identity): KubeConfig => new ImpersonatingKubeConfig(adminKubeConfig(), identity);

async function refusal(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as { code?: number; statusCode?: number }).code ?? (err as { statusCode?: number }).statusCode;
  }
}

/** Opens a watch; resolves with `name` once that object's event arrives, or rejects with the watch's error. */
function watchFor(kc: KubeConfig, namespace: string, name: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let controller: AbortController | undefined;
    let settled = false;
    new Watch(kc)
      .watch(
        `/api/v1/namespaces/${namespace}/configmaps`,
        {},
        (_phase, obj: { metadata?: { name?: string } }) => {
          // The namespace's own kube-root-ca.crt arrives too; wait for ours.
          if (settled || obj.metadata?.name !== name) return;
          settled = true;
          resolve(obj.metadata?.name ?? '');
          controller?.abort();
        },
        (err: unknown) => {
          if (!settled) {
            settled = true;
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        },
      )
      .then((c) => {
        controller = c;
        if (settled) c.abort();
      })
      .catch(reject);
  });
}

describe('impersonation with groups on the real API server', () => {
  it('a typed client: allowed through the second group only', async () => {
    await eventually(async () => {
      const list = await as(both).makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: ns });
      expect(list.items.map((c) => c.metadata?.name)).toContain('probe');
    });
    expect(await refusal(as(firstOnly).makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: ns }))).toBe(403);
    expect(await refusal(as(noGroups).makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace: ns, name: 'probe' }))).toBe(403);
  });

  it('the generic object client and KubeClients: allowed through the second group only', async () => {
    await eventually(async () => {
      const cm = await KubernetesObjectApi.makeApiClient(as(both)).read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'probe', namespace: ns } });
      expect(cm.metadata?.name).toBe('probe');
    });
    expect(
      await refusal(KubernetesObjectApi.makeApiClient(as(firstOnly)).read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'probe', namespace: ns } })),
    ).toBe(403);

    const root = KubeClients.fromKubeConfig(adminKubeConfig());
    expect((await root.impersonate(both).get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'probe' }))?.metadata?.name).toBe('probe');
    expect((await root.impersonate(both).objects.list('v1', 'ConfigMap', ns)).items.map((c) => c.metadata?.name)).toContain('probe');
    const refused = await root.impersonate(firstOnly).list('v1', 'ConfigMap', { namespace: ns }).catch((e: unknown) => e);
    expect(isForbidden(refused)).toBe(true);
    const refusedWrite = await root.impersonate(both).request({
      method: 'POST',
      path: `/api/v1/namespaces/${ns}/configmaps`,
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'not-allowed' } },
    }).catch((e: unknown) => e);
    expect(isForbidden(refusedWrite)).toBe(true); // the groups' RBAC, nothing more: read only
  });

  it('a watch: allowed through the second group only', async () => {
    await eventually(async () => expect(await watchFor(as(both), ns, 'probe')).toBe('probe'));
    await expect(watchFor(as(firstOnly), ns, 'probe')).rejects.toMatchObject({ statusCode: 403 });
    await expect(watchFor(as(noGroups), ns, 'probe')).rejects.toMatchObject({ statusCode: 403 });
  });
});
