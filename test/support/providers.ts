/**
 * Where integration tests get a cluster from, in order:
 *   1. an existing cluster named by PAVED_TEST_KUBECONFIG (identities by impersonation);
 *   2. k3s in a container (@testcontainers/k3s) when a Docker engine is reachable and
 *      PAVED_TEST_PROVIDER=k3s (it cannot run on machines without Docker, such as this project's CI);
 *   3. by default, the local binaries built from the Kubernetes Go modules (src/localcluster).
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_IDENTITIES, startLocalCluster } from '../../src/localcluster/cluster.js';

export interface ProvidedCluster {
  provider: 'existing' | 'k3s' | 'local';
  server: string;
  kubeconfigPath: string;
  /** Kubeconfig per non-admin identity, when the provider has real ones (the local cluster does). */
  identityKubeconfigs: Record<string, string>;
  /** Groups of each identity (used for impersonation where there are no real identities). */
  identityGroups: Record<string, readonly string[]>;
  auditLog?: string;
  dir?: string;
}

export async function startProvidedCluster(
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<{ cluster: ProvidedCluster; stop: () => Promise<void> }> {
  const identityGroups = { ...LOCAL_IDENTITIES };
  const existing = env['PAVED_TEST_KUBECONFIG'];
  if (existing) {
    if (!existsSync(existing)) throw new Error(`PAVED_TEST_KUBECONFIG names ${existing}, which does not exist`);
    log(`using the existing cluster of ${existing}`);
    return {
      cluster: { provider: 'existing', server: '', kubeconfigPath: existing, identityKubeconfigs: {}, identityGroups },
      stop: async () => {},
    };
  }
  if (env['PAVED_TEST_PROVIDER'] === 'k3s') {
    const { K3sContainer } = await import('@testcontainers/k3s');
    log('starting k3s in a container');
    const k3s = await new K3sContainer('rancher/k3s:v1.33.1-k3s1').start();
    const dir = mkdtempSync(join(tmpdir(), 'paved-k3s-'));
    const kubeconfigPath = join(dir, 'admin.kubeconfig');
    await writeFile(kubeconfigPath, k3s.getKubeConfig());
    return {
      cluster: { provider: 'k3s', server: '', kubeconfigPath, identityKubeconfigs: {}, identityGroups, dir },
      stop: async () => {
        await k3s.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const local = await startLocalCluster({ onProgress: (l) => log(l) });
  const { admin, ...identities } = local.kubeconfigs;
  return {
    cluster: {
      provider: 'local',
      server: local.server,
      kubeconfigPath: admin,
      identityKubeconfigs: identities,
      identityGroups,
      auditLog: local.auditLog,
      dir: local.dir,
    },
    stop: () => local.stop(),
  };
}
