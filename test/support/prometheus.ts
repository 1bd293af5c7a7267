/**
 * A real Prometheus 3 per test file (built from tools/prometheus), stopped when the file ends. Tests add scrape
 * targets on loopback or backfill weeks of history before it starts.
 */
import { afterAll, inject } from 'vitest';
import { startPrometheus as startLocalPrometheus, type LocalPrometheus, type StartPrometheusOptions } from '../../src/localcluster/prometheus.js';

export type { LocalPrometheus };

export async function startPrometheus(opts: StartPrometheusOptions = {}): Promise<LocalPrometheus> {
  const prom = await startLocalPrometheus(opts);
  try {
    afterAll(() => prom.stop());
  } catch {
    // Called inside a test, where hooks cannot be added: the caller stops it (and the process exit
    // hook of src/localcluster/process.ts kills it in any case).
  }
  return prom;
}

/**
 * Makes `prom` scrape the shared cluster's exporters (kwok's per-node resource metrics and
 * kube-state-metrics). Returns false when the provider has none (an existing cluster, k3s): tests of
 * real exporter series skip there.
 */
export async function scrapeSharedCluster(prom: LocalPrometheus): Promise<boolean> {
  const targets = inject('cluster').scrapeTargets ?? [];
  if (targets.length === 0) return false;
  await prom.scrapeCluster(targets);
  return true;
}

/** Whether the shared cluster runs the exporters (kube-state-metrics, metrics-server, kwok usage). */
export function sharedClusterHasExporters(): boolean {
  return (inject('cluster').scrapeTargets ?? []).length > 0;
}
