/**
 * The official CustomResourceDefinitions of the projects paved writes objects for (Gateway API,
 * prometheus-operator, Argo CD), read from their Go modules the way Go operators feed envtest:
 * tools/crds/go.mod pins the versions, `go mod download` puts each module in the Go module cache
 * (go.sum checks its hash), and the files are read where the JSON's `Dir` says. Nothing is copied
 * into this repository. A warm call answers from the module cache without the network.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SetupError } from '../errors.js';
import { goModDownload, type GoModDownload } from './go-modules.js';

export { parseDownloadJson } from './go-modules.js';

/** tools/crds: the Go module that pins the CRDs' modules. */
export const CRD_MODULE_DIR = fileURLToPath(new URL('../../tools/crds/', import.meta.url));

interface CrdSource {
  readonly module: string;
  /** Folder of the CRDs inside the module. */
  readonly dir: string;
  /** The CRDs paved renders objects of (or validates against); each file is installed unmodified. */
  readonly files: readonly string[];
}

/** Which files of which module; the versions are in tools/crds/go.mod. */
export const THIRD_PARTY_CRD_SOURCES: readonly CrdSource[] = [
  {
    module: 'sigs.k8s.io/gateway-api',
    dir: 'config/crd/standard',
    files: [
      'gateway.networking.k8s.io_gatewayclasses.yaml',
      'gateway.networking.k8s.io_gateways.yaml',
      'gateway.networking.k8s.io_httproutes.yaml',
      'gateway.networking.k8s.io_referencegrants.yaml',
    ],
  },
  {
    module: 'github.com/prometheus-operator/prometheus-operator',
    dir: 'example/prometheus-operator-crd',
    files: [
      'monitoring.coreos.com_podmonitors.yaml',
      'monitoring.coreos.com_prometheusrules.yaml',
      'monitoring.coreos.com_servicemonitors.yaml',
    ],
  },
  {
    module: 'github.com/argoproj/argo-cd/v3',
    dir: 'manifests/crds',
    files: ['application-crd.yaml', 'appproject-crd.yaml'],
  },
];

export interface ThirdPartyCrdOptions {
  /** The go command (default `go` on PATH). */
  readonly go?: string;
  readonly onProgress?: (line: string) => void;
}

/** Downloads (or finds in the module cache) the pinned modules; returns the CRD files, sorted by module. */
export async function thirdPartyCrdFiles(options: ThirdPartyCrdOptions = {}): Promise<string[]> {
  const dirs = await downloadModules(options);
  return THIRD_PARTY_CRD_SOURCES.flatMap((source) => {
    const moduleDir = dirs.get(source.module);
    if (!moduleDir) {
      throw new SetupError(`go mod download did not report ${source.module}`, `check that tools/crds/go.mod requires ${source.module}`);
    }
    return source.files.map((file) => {
      const path = join(moduleDir, source.dir, file);
      if (!existsSync(path)) {
        throw new SetupError(
          `${file} is not in ${source.module} (${moduleDir}/${source.dir})`,
          'the pinned version in tools/crds/go.mod does not ship this CRD: update THIRD_PARTY_CRD_SOURCES to its file list',
        );
      }
      return path;
    });
  });
}

async function downloadModules(options: ThirdPartyCrdOptions): Promise<Map<string, string>> {
  const go = options.go ?? 'go';
  const modules = THIRD_PARTY_CRD_SOURCES.map((s) => s.module);
  let result: GoModDownload;
  try {
    // go.sum is always verified; a version change in go.mod is the only way it grows.
    result = await goModDownload(go, CRD_MODULE_DIR, modules, options.onProgress);
  } catch (err) {
    throw new SetupError(
      'the Go toolchain is missing: the third-party CRDs come from Go modules',
      'install Go 1.26 or newer (https://go.dev/dl, or your package manager) and put `go` on PATH',
      '',
      { cause: err },
    );
  }
  const failed = result.modules.filter((m) => m.Error);
  if (result.code !== 0 || failed.length > 0) {
    throw new SetupError(
      `go mod download of the third-party CRD modules failed (exit ${result.code})` +
        failed.map((m) => `\n  ${m.Path}: ${m.Error}`).join(''),
      'check network access to the Go module proxy (GOPROXY); a checksum mismatch means the download does ' +
        'not match tools/crds/go.sum and must not be used',
      result.stderr.slice(-20).join('\n'),
    );
  }
  return new Map(result.modules.flatMap((m) => (m.Dir ? [[m.Path, m.Dir] as const] : [])));
}
