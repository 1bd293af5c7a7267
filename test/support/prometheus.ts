/**
 * A real Prometheus 3 per test file (built from tools/prometheus), stopped when the file ends. Tests add scrape
 * targets on loopback or backfill weeks of history before it starts.
 */
import { afterAll } from 'vitest';
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
