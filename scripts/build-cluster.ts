/** CLI: builds (or finds in the cache) the local cluster's binaries, printing progress. */
import { ensureBinaries } from '../src/localcluster/binaries.js';
import { SetupError } from '../src/errors.js';

try {
  const bins = await ensureBinaries({ onProgress: (line) => process.stderr.write(`[paved setup] ${line}\n`) });
  process.stderr.write(`[paved setup] local cluster binaries ready: ${bins.controlPlane}, ${bins.kwok}\n`);
  // --- exporters ---
  process.stderr.write(`[paved setup] exporters ready: ${bins.kubeStateMetrics}, ${bins.metricsServer}\n`);
  // --- end exporters ---
} catch (err) {
  process.stderr.write(`[paved setup] ERROR: ${err instanceof SetupError ? err.message : String(err)}\n`);
  process.exit(1);
}
