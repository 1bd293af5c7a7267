/**
 * The local stack of `npm run paved` when no cluster is given: a local Kubernetes cluster with the
 * official third-party CRDs (Gateway API, prometheus-operator, Argo CD: so paved renders HTTPRoutes
 * and ServiceMonitors as on a real platform) and a Prometheus that scrapes the controller and, with the
 * extras (the default), the cluster's exporters: kube-state-metrics, metrics-server (so HPAs scale) and
 * kwok's simulated container usage. Stopped (processes and temp dirs) by `stop()` and on exit.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { installCrds } from '../install/crds.js';
import { ensureKubectl, kubectlPathLine } from './binaries.js';
import { startLocalCluster, type LocalCluster } from './cluster.js';
import { startPrometheus, type LocalPrometheus } from './prometheus.js';
import { thirdPartyCrdFiles } from './third-party-crds.js';

export interface LocalStack {
  readonly cluster: LocalCluster;
  readonly prometheus: LocalPrometheus;
  /** kubectl of the cluster's version (a link to the control-plane binary). */
  readonly kubectl: string;
  /** The shell line that puts that kubectl on PATH with KUBECONFIG set to this cluster. */
  readonly kubectlPathLine: string;
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  /** kube-state-metrics, metrics-server and their scraping (default true; PAVED_LOCAL_EXTRAS=false leaves them out). */
  readonly extras?: boolean;
}

export async function startLocalStack(onProgress: (line: string) => void, options: LocalStackOptions = {}): Promise<LocalStack> {
  const extras = options.extras ?? true;
  if (!extras) onProgress('extras left out (PAVED_LOCAL_EXTRAS=false): no kube-state-metrics, metrics-server or usage scraping');
  const cluster = await startLocalCluster({ onProgress, exporters: extras });
  try {
    onProgress('installing the third-party CRDs (from the Go module cache, see tools/crds/go.mod)');
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    await installCrds(kc, await thirdPartyCrdFiles({ onProgress }), 'paved-local-stack');
    const kubectl = await ensureKubectl({ onProgress });
    onProgress('starting Prometheus');
    const prometheus = await startPrometheus({ scrapeIntervalSeconds: 5, onProgress });
    if (extras) {
      await prometheus.scrapeCluster(cluster.scrapeTargets);
      onProgress(`Prometheus scrapes ${cluster.scrapeTargets.map((t) => t.job).filter((j, i, a) => a.indexOf(j) === i).join(', ')}`);
    }
    onProgress(`Prometheus ready at ${prometheus.url}`);
    return {
      cluster,
      prometheus,
      kubectl,
      kubectlPathLine: kubectlPathLine(kubectl, cluster.kubeconfigPath),
      async stop() {
        await Promise.all([prometheus.stop(), cluster.stop()]);
      },
    };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}
