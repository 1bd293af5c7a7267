/**
 * Where integration tests get a cluster from, in order:
 *   1. an existing cluster named by PAVED_TEST_KUBECONFIG (identities by impersonation);
 *   2. k3s in a container (@testcontainers/k3s) when a Docker engine answers on DOCKER_HOST or
 *      /var/run/docker.sock (or PAVED_TEST_PROVIDER=k3s); none does on this project's CI machines;
 *   3. otherwise (or with PAVED_TEST_PROVIDER=local), the local binaries built from the Kubernetes Go
 *      modules (src/localcluster).
 */
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_IDENTITIES, startLocalCluster } from '../../src/localcluster/cluster.js';
import type { ScrapeTarget } from '../../src/localcluster/exporters.js';

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
  /** What a test's Prometheus scrapes to see the cluster's exporters (local provider only). */
  scrapeTargets?: readonly ScrapeTarget[];
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
  const provider = env['PAVED_TEST_PROVIDER'];
  if (provider === 'k3s' || (provider !== 'local' && (await dockerEngineAnswers(env)))) {
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
  // With the exporters: tests see real kube-state-metrics series, kwok usage and a metrics API.
  const local = await startLocalCluster({ onProgress: (l) => log(l), exporters: true });
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
      scrapeTargets: local.scrapeTargets,
    },
    stop: () => local.stop(),
  };
}

/** True when a Docker engine answers `GET /_ping` on its unix socket within a second. */
function dockerEngineAnswers(env: NodeJS.ProcessEnv): Promise<boolean> {
  const host = env['DOCKER_HOST'];
  const socketPath = host?.startsWith('unix://') ? host.slice('unix://'.length) : host ? undefined : '/var/run/docker.sock';
  if (!socketPath || !existsSync(socketPath)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
