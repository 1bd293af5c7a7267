/**
 * CLI: builds (or finds in the cache) what the local stack and the tests run, printing progress.
 *   --cluster     the control plane (with kubectl), kwok, kube-state-metrics and metrics-server, plus the third-party CRDs
 *   --crds        only the third-party CRDs (tools/crds/go.mod, into the Go module cache)
 *   --prometheus  Prometheus 3 and promtool (tools/prometheus)
 * With no flag: all of them.
 */
import { ensureBinaries, ensureKubectl, ensurePrometheusBinaries } from '../src/localcluster/binaries.js';
import { thirdPartyCrdFiles } from '../src/localcluster/third-party-crds.js';
import { SetupError } from '../src/errors.js';

const progress = (line: string) => process.stderr.write(`[paved setup] ${line}\n`);
const flags = new Set(process.argv.slice(2));
const unknown = [...flags].filter((f) => !['--cluster', '--crds', '--prometheus'].includes(f));
if (unknown.length > 0) {
  progress(`ERROR: unknown flag(s) ${unknown.join(' ')}; use --cluster, --crds and/or --prometheus`);
  process.exit(2);
}
const all = flags.size === 0;
try {
  if (all || flags.has('--cluster')) {
    const bins = await ensureBinaries({ onProgress: progress });
    const kubectl = await ensureKubectl({ onProgress: progress });
    progress(`local cluster binaries ready: ${bins.controlPlane}, ${bins.kwok}, ${kubectl}`);
    progress(`exporters ready: ${bins.kubeStateMetrics}, ${bins.metricsServer}`);
  }
  if (all || flags.has('--cluster') || flags.has('--crds')) {
    // The official third-party CRDs: Go modules pinned by tools/crds/go.mod, into the module cache.
    progress('downloading the third-party CRD modules (tools/crds/go.mod) into the Go module cache');
    const crds = await thirdPartyCrdFiles({ onProgress: progress });
    progress(`third-party CRDs ready: ${crds.length} files`);
  }
  if (all || flags.has('--prometheus')) {
    const prom = await ensurePrometheusBinaries({ onProgress: progress });
    progress(`Prometheus ready: ${prom.prometheus}, ${prom.promtool}`);
  }
} catch (err) {
  process.stderr.write(`[paved setup] ERROR: ${err instanceof SetupError ? err.message : String(err)}\n`);
  process.exit(1);
}
