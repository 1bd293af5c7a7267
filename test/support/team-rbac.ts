/**
 * A Team over a test namespace as the API sees one (the namespace labelled as the tenancy controller
 * labels it, and its paved-deployer bootstrapped as tenancy does), with a Role that may change
 * WebServices bound to the given groups only: whether the API may write for a caller is then decided
 * by real RBAC, and the write itself is made as the real deployer.
 */
import { RbacAuthorizationV1Api, type KubernetesObject } from '@kubernetes/client-node';
import type { Team } from '../../src/api/index.js';
import { KubeClients, serviceAccountUser } from '../../src/kube/index.js';
import type { TenancyConfig } from '../../src/tenancy/controller.js';
import { TenancyNames, renderTenancy } from '../../src/tenancy/render.js';
import { adminKubeConfig, labelTeamNamespace } from './cluster.js';
import { eventually } from './eventually.js';

/** The tenancy controller's settings in tests that run it beside others (no orphan is released during a file). */
export const TEST_TENANCY_CONFIG: TenancyConfig = {
  PAVED_GATEWAY_NAMESPACE: 'gateway-system',
  PAVED_MONITORING_NAMESPACE: 'monitoring',
  PAVED_ORPHAN_GRACE_SECONDS: 600,
  PAVED_RESYNC_SECONDS: 600,
  PAVED_WORKERS: 2,
};

/**
 * Creates namespace `ns`'s paved-deployer (ServiceAccount, Role with DEPLOYER_RULES, RoleBinding) from
 * tenancy's own renderer, the identity the API writes as, and waits until the authorizer lets it.
 */
export async function createDeployer(ns: string): Promise<void> {
  const admin = KubeClients.fromKubeConfig(adminKubeConfig());
  const team = { apiVersion: 'paved.dev/v1alpha1', kind: 'Team', metadata: { name: ns }, spec: { owners: { groups: [] }, costCenter: 'cc-test', quota: { tier: 'small' } } } as unknown as Team;
  const [tenant] = renderTenancy(team, { gatewayNamespace: 'gateway-system', monitoringNamespace: 'monitoring' });
  const bootstrap = (tenant?.bootstrap ?? []).filter((o: KubernetesObject) => o.kind !== 'Namespace');
  for (const obj of bootstrap) {
    const path = await admin.resourcePath({ apiVersion: obj.apiVersion ?? '', kind: obj.kind ?? '', namespace: ns });
    await admin.request({ method: 'POST', path, body: obj });
  }
  const deployer = admin.impersonate(serviceAccountUser(ns, TenancyNames.deployer));
  await eventually(() => deployer.request({ method: 'GET', path: `/apis/paved.dev/v1alpha1/namespaces/${ns}/webservices` }), { timeoutMs: 30_000 });
}

export interface TeamRbacOptions {
  owners: string[];
  members?: string[];
  /** Groups bound to the WebService editor Role (default: the owners). */
  editors?: string[];
  spec?: Record<string, unknown>;
}

/** Creates Team `ns` owning namespace `ns`, its deployer, and the editor Role bound to `editors`. Delete the Team after the file. */
export async function createTeamWithRbac(ns: string, o: TeamRbacOptions): Promise<void> {
  const kc = adminKubeConfig();
  await labelTeamNamespace(ns, ns);
  await KubeClients.fromKubeConfig(kc).request({
    method: 'POST',
    path: '/apis/paved.dev/v1alpha1/teams',
    body: {
      apiVersion: 'paved.dev/v1alpha1',
      kind: 'Team',
      metadata: { name: ns },
      spec: { owners: { groups: o.owners }, ...(o.members ? { members: { groups: o.members } } : {}), costCenter: 'cc-test', quota: { tier: 'small' }, ...o.spec },
    },
  });
  await createDeployer(ns);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({
    namespace: ns,
    body: { metadata: { name: 'ws-editor' }, rules: [{ apiGroups: ['paved.dev'], resources: ['webservices'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] }] },
  });
  await rbac.createNamespacedRoleBinding({
    namespace: ns,
    body: {
      metadata: { name: 'ws-editors' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'ws-editor' },
      subjects: (o.editors ?? o.owners).map((name) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name })),
    },
  });
}
