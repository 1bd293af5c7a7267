/**
 * The shared test cluster as seen from a test file: kubeconfigs per identity and namespaces per
 * test. The cluster itself is started once per run by global-setup.ts.
 */
import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, inject } from 'vitest';
import { ImpersonatingKubeConfig } from '../../src/kube/identity.js';

export type TestIdentity = 'alice' | 'bob' | 'carol';

/** Where the shared cluster is. */
export function clusterInfo(): { server: string; kubeconfigPath: string; auditLog?: string; provider: string } {
  const c = inject('cluster');
  const kc = new KubeConfig();
  kc.loadFromFile(c.kubeconfigPath);
  return { server: kc.getCurrentCluster()?.server ?? c.server, kubeconfigPath: c.kubeconfigPath, auditLog: c.auditLog, provider: c.provider };
}

/** A cluster-admin KubeConfig. */
export function adminKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(inject('cluster').kubeconfigPath);
  return kc;
}

/**
 * A non-admin identity: alice (group team-a), bob (team-b), carol (paved:finance). On the local
 * cluster these are real token users; on other providers the admin impersonates them.
 */
export function identityKubeConfig(name: TestIdentity): KubeConfig {
  const c = inject('cluster');
  const path = c.identityKubeconfigs[name];
  if (path) {
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    return kc;
  }
  // Every group of the identity is impersonated (src/kube/identity.ts), not only the first.
  return new ImpersonatingKubeConfig(adminKubeConfig(), { user: name, groups: c.identityGroups[name] ?? [] });
}

const created: string[] = [];
let cleanupRegistered = false;

/**
 * Creates a namespace with a unique name (`<prefix>-<random>`) for one test; it is deleted when the
 * test file ends.
 */
export async function createTestNamespace(prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const name = `${prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 40)}-${randomBytes(3).toString('hex')}`;
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name, labels: { 'paved.dev/test': 'true', ...labels } } } });
  created.push(name);
  if (!cleanupRegistered) {
    try {
      afterAll(async () => {
        await Promise.all(created.splice(0).map((n) => core.deleteNamespace({ name: n }).catch(() => undefined)));
      });
      cleanupRegistered = true;
    } catch {
      // Inside a test no hook can be added: the namespace lives until the cluster stops.
    }
  }
  return name;
}

/** A random suffix for cluster-scoped names in tests. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/**
 * Labels a test namespace the way the tenancy controller labels a team's namespace: the API reads
 * namespace ownership from these labels only (src/tenancy/namespaces.ts).
 */
export async function labelTeamNamespace(namespace: string, team: string): Promise<void> {
  const { KubeClients } = await import('../../src/kube/client.js');
  await KubeClients.fromKubeConfig(adminKubeConfig()).request({
    method: 'PATCH',
    path: `/api/v1/namespaces/${namespace}`,
    contentType: 'application/merge-patch+json',
    body: { metadata: { labels: { 'app.kubernetes.io/managed-by': 'paved', 'paved.dev/team': team } } },
  });
}
