/**
 * The local stack of `npm run paved` when no cluster is given: a local Kubernetes cluster and a
 * Prometheus that scrapes the controller and, with the extras (the default), the cluster's exporters:
 * kube-state-metrics, metrics-server (so HPAs scale) and kwok's simulated container usage.
 * Stopped (processes and temp dirs) by `stop()` and on exit.
 */
import { startLocalCluster, type LocalCluster } from './cluster.js';
import { startPrometheus, type LocalPrometheus } from './prometheus.js';

export interface LocalStack {
  readonly cluster: LocalCluster;
  readonly prometheus: LocalPrometheus;
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
      async stop() {
        await Promise.all([prometheus.stop(), cluster.stop()]);
      },
    };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}
