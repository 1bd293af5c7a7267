/**
 * The local stack of `npm run paved` when no cluster is given: a local Kubernetes cluster and a
 * Prometheus that scrapes the controller. Stopped (processes and temp dirs) by `stop()` and on exit.
 */
import { startLocalCluster, type LocalCluster } from './cluster.js';
import { startPrometheus, type LocalPrometheus } from './prometheus.js';

export interface LocalStack {
  readonly cluster: LocalCluster;
  readonly prometheus: LocalPrometheus;
  stop(): Promise<void>;
}

export async function startLocalStack(onProgress: (line: string) => void): Promise<LocalStack> {
  const cluster = await startLocalCluster({ onProgress });
  try {
    onProgress('starting Prometheus');
    const prometheus = await startPrometheus({ scrapeIntervalSeconds: 5, onProgress });
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
