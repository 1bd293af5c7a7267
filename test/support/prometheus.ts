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

/**
 * Stops `prom` scraping the shared cluster's exporters and waits until no new sample arrives, so
 * that a test can compare what paved computes with the raw samples, both from the same data.
 */
export async function stopScrapingSharedCluster(prom: LocalPrometheus, timeoutMs = 30_000): Promise<void> {
  for (const t of inject('cluster').scrapeTargets ?? []) await prom.removeTarget(t.job, `${t.hostPort}${t.metricsPath}`);
  const newest = async (): Promise<number> => {
    const res = await fetch(`${prom.url}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: 'max(timestamp({__name__=~"kube_pod_status_phase|container_cpu_usage_seconds_total"}))' }),
    });
    const body = (await res.json()) as { data?: { result?: Array<{ value: [number, string] }> } };
    return Number(body.data?.result?.[0]?.value[1] ?? 0);
  };
  const deadline = Date.now() + timeoutMs;
  let last = await newest();
  for (;;) {
    await new Promise((r) => setTimeout(r, 3_000));
    const now = await newest();
    if (now === last) return;
    if (Date.now() > deadline) throw new Error(`Prometheus ${prom.url} still scrapes the cluster ${timeoutMs} ms after its targets were removed`);
    last = now;
  }
}
