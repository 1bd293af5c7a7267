/**
 * Once per test run: one shared cluster (see providers.ts) with the project's CRDs and the
 * third-party CRDs installed. Tests get it through `inject('cluster')` (test/support/cluster.ts)
 * and each works in namespaces of its own.
 */
import type { TestProject } from 'vitest/node';
import { KubeConfig } from '@kubernetes/client-node';
import { ensurePrometheusBinaries } from '../../src/localcluster/binaries.js';
import { KubeClients } from '../../src/kube/index.js';
import { startProvidedCluster, type ProvidedCluster } from './providers.js';
import { keepConfigMapParamInformer } from './param-informers.js';
import { installCrds, projectCrdFiles, thirdPartyCrdFiles } from './crds.js';

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: ProvidedCluster;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string) => process.stderr.write(`[paved test cluster] ${line}\n`);
  // Once here rather than in each file that starts a Prometheus (a cold build takes minutes).
  await ensurePrometheusBinaries({ onProgress: log });
  const { cluster, stop } = await startProvidedCluster(process.env, log);
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    const files = [...(await thirdPartyCrdFiles({ onProgress: log })), ...projectCrdFiles()];
    log(`installing ${files.length} CRDs`);
    await installCrds(kc, files, 'paved-tests');
    // Before any test binds a ConfigMap-param policy (see param-informers.ts); PAVED_TEST_KEEP_PARAM_INFORMERS=0
    // leaves it out, which reproduces kubernetes/kubernetes#130887 (test/deploy/admission-params.int.test.ts).
    if (process.env['PAVED_TEST_KEEP_PARAM_INFORMERS'] !== '0') await keepConfigMapParamInformer(KubeClients.fromKubeConfig(kc));
  } catch (err) {
    await stop();
    throw err;
  }
  project.provide('cluster', cluster);
  return async () => {
    log('stopping');
    await stop();
  };
}
