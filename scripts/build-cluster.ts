/** CLI: builds (or finds in the cache) the local cluster's binaries, printing progress. */
import { ensureBinaries } from '../src/localcluster/binaries.js';
import { thirdPartyCrdFiles } from '../src/localcluster/third-party-crds.js';
import { SetupError } from '../src/errors.js';

const progress = (line: string) => process.stderr.write(`[paved setup] ${line}\n`);
try {
  const bins = await ensureBinaries({ onProgress: progress });
  process.stderr.write(`[paved setup] local cluster binaries ready: ${bins.controlPlane}, ${bins.kwok}\n`);
  // The official third-party CRDs: Go modules pinned by tools/crds/go.mod, into the module cache.
  progress('downloading the third-party CRD modules (tools/crds/go.mod) into the Go module cache');
  const crds = await thirdPartyCrdFiles({ onProgress: progress });
  progress(`third-party CRDs ready: ${crds.length} files`);
} catch (err) {
  process.stderr.write(`[paved setup] ERROR: ${err instanceof SetupError ? err.message : String(err)}\n`);
  process.exit(1);
}
