/**
 * A Team over a test namespace as the API sees one (the namespace labelled as the tenancy controller
 * labels it), with a Role that may change WebServices bound to the given groups only: the writes the API
 * impersonates are then decided by real RBAC.
 */
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { KubeClients } from '../../src/kube/index.js';
import { adminKubeConfig, labelTeamNamespace } from './cluster.js';

export interface TeamRbacOptions {
  owners: string[];
  members?: string[];
  /** Groups bound to the WebService editor Role (default: the owners). */
  editors?: string[];
  spec?: Record<string, unknown>;
}

/** Creates Team `ns` owning namespace `ns`, and the editor Role bound to `editors`. Delete the Team after the file. */
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
