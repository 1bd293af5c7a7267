/**
 * Builds the local cluster's binaries from the Go modules in tools/localcluster/ and caches them
 * outside the work tree, keyed by Kubernetes version and the hash of the module files, so a fresh
 * clone on the same machine (as CI uses) reuses them. A cold build takes minutes on two cores:
 * progress is reported while it runs.
 */
import { createHash } from 'node:crypto';
import { existsSync, statfsSync } from 'node:fs';
import { mkdir, readFile, readlink, rename, rm, symlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SetupError } from '../errors.js';
import { goModDownload } from './go-modules.js';
import { runCommand } from './process.js';

export const KUBERNETES_VERSION = 'v1.36.3';
export const KWOK_VERSION = 'v0.8.0';
// Exporters (issue 12: kube-state-metrics and metrics-server, module tools/exporters).
/** Named exactly: the module proxy lists no versions of k8s.io/kube-state-metrics/v2. */
export const KUBE_STATE_METRICS_VERSION = 'v2.20.0';
export const METRICS_SERVER_VERSION = 'v0.9.0';

/** Where the Go modules live in the project. */
export const TOOLS_DIR = fileURLToPath(new URL('../../tools/localcluster/', import.meta.url));

/** Free disk a cold build needs (Go build cache and module cache included). */
const MIN_FREE_BYTES = 6 * 1024 ** 3;

export interface Binaries {
  /** Multi-call binary: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl. */
  readonly controlPlane: string;
  readonly kwok: string;
  /**
   * kwok's configuration documents, read from kwok's own module copy in the Go module cache (never
   * copied into this repository): node and pod Stages, the usage-from-annotation
   * ClusterResourceUsage and the kubelet-style metrics-resource Metric.
   */
  readonly kwokConfigs: readonly string[];
  /** Absent when built with `exporters: false`. */
  readonly kubeStateMetrics?: string;
  readonly metricsServer?: string;
}

export interface BuildOptions {
  /** Cache root; defaults to ~/.cache/paved. */
  readonly cacheDir?: string;
  /** Receives human-readable progress lines. */
  readonly onProgress?: (line: string) => void;
  /** The go command (default `go` on PATH). */
  readonly go?: string;
  /** Also build kube-state-metrics and metrics-server (default true). */
  readonly exporters?: boolean;
}

interface Target {
  readonly label: string;
  readonly moduleDir: string;
  readonly files: readonly string[];
  readonly fileName: (key: string) => string;
  readonly args: (output: string) => string[];
  readonly expectedMinutes: string;
}

const versionFlags = [
  `-X k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION}`,
  `-X k8s.io/component-base/version.gitMajor=1`,
  `-X k8s.io/component-base/version.gitMinor=${KUBERNETES_VERSION.split('.')[1]}`,
  '-X k8s.io/component-base/version.gitTreeState=clean',
].join(' ');

const EXPORTERS_DIR = fileURLToPath(new URL('../../tools/exporters/', import.meta.url));
// The version stamps upstream's Makefiles set, so `--version` and the build_info series say what runs.
const ksmVersionFlags = `-X github.com/prometheus/common/version.Version=${KUBE_STATE_METRICS_VERSION}`;
const metricsServerVersionFlags = `-X k8s.io/client-go/pkg/version.gitVersion=${METRICS_SERVER_VERSION}`;

const targets = {
  controlPlane: {
    label: `Kubernetes ${KUBERNETES_VERSION} control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl)`,
    moduleDir: TOOLS_DIR,
    files: ['go.mod', 'go.sum', 'main.go', 'url.go'],
    fileName: (key) => `localcluster-${KUBERNETES_VERSION}-${key}`,
    args: (output) => ['build', '-trimpath', '-ldflags', `-s -w ${versionFlags}`, '-o', output, '.'],
    expectedMinutes: '5 to 20',
  },
  kwok: {
    label: `kwok ${KWOK_VERSION} (kubelet simulator)`,
    moduleDir: join(TOOLS_DIR, 'kwok'),
    files: ['go.mod', 'go.sum'],
    fileName: (key) => `kwok-${KWOK_VERSION}-${key}`,
    args: (output) => ['build', '-trimpath', '-ldflags', '-s -w', '-o', output, 'sigs.k8s.io/kwok/cmd/kwok'],
    expectedMinutes: '2 to 5',
  },
  kubeStateMetrics: {
    label: `kube-state-metrics ${KUBE_STATE_METRICS_VERSION}`,
    moduleDir: EXPORTERS_DIR,
    files: ['go.mod', 'go.sum'],
    fileName: (key) => `kube-state-metrics-${KUBE_STATE_METRICS_VERSION}-${key}`,
    args: (output) => ['build', '-trimpath', '-ldflags', `-s -w ${ksmVersionFlags}`, '-o', output, 'k8s.io/kube-state-metrics/v2'],
    expectedMinutes: '2 to 6',
  },
  metricsServer: {
    label: `metrics-server ${METRICS_SERVER_VERSION}`,
    moduleDir: EXPORTERS_DIR,
    files: ['go.mod', 'go.sum'],
    fileName: (key) => `metrics-server-${METRICS_SERVER_VERSION}-${key}`,
    args: (output) => ['build', '-trimpath', '-ldflags', `-s -w ${metricsServerVersionFlags}`, '-o', output, 'sigs.k8s.io/metrics-server/cmd/metrics-server'],
    expectedMinutes: '2 to 6',
  },
} satisfies Record<string, Target>;

// Prometheus 3 and promtool (tools/prometheus, a module of its own: it needs client-go v0.37).

export const PROMETHEUS_VERSION = '3.16.0';
/** tools/prometheus: pins github.com/prometheus/prometheus v0.316.0 (= Prometheus 3.16). */
export const PROMETHEUS_TOOLS_DIR = fileURLToPath(new URL('../../tools/prometheus/', import.meta.url));

const prometheusVersionFlags = [
  `-X github.com/prometheus/common/version.Version=${PROMETHEUS_VERSION}`,
  '-X github.com/prometheus/common/version.Branch=paved',
].join(' ');

/** `remove_all_sd` leaves only the file and static discovery the local Prometheus uses (a smaller, faster build). */
const prometheusBuild = (pkg: string) => (output: string) =>
  ['build', '-trimpath', '-tags', 'remove_all_sd', '-ldflags', `-s -w ${prometheusVersionFlags}`, '-o', output, pkg];

const prometheusTargets = {
  prometheus: {
    label: `Prometheus ${PROMETHEUS_VERSION} server`,
    moduleDir: PROMETHEUS_TOOLS_DIR,
    files: ['go.mod', 'go.sum'],
    fileName: (key) => `prometheus-${PROMETHEUS_VERSION}-${key}`,
    args: prometheusBuild('github.com/prometheus/prometheus/cmd/prometheus'),
    expectedMinutes: '3 to 10',
  },
  promtool: {
    label: `promtool ${PROMETHEUS_VERSION} (backfill)`,
    moduleDir: PROMETHEUS_TOOLS_DIR,
    files: ['go.mod', 'go.sum'],
    fileName: (key) => `promtool-${PROMETHEUS_VERSION}-${key}`,
    args: prometheusBuild('github.com/prometheus/prometheus/cmd/promtool'),
    expectedMinutes: '1 to 5',
  },
} satisfies Record<string, Target>;

export interface PrometheusBinaries {
  readonly prometheus: string;
  readonly promtool: string;
}

/** Returns the cached Prometheus and promtool, building whichever is missing. */
export async function ensurePrometheusBinaries(options: BuildOptions = {}): Promise<PrometheusBinaries> {
  const binDir = join(options.cacheDir ?? defaultCacheDir(), 'bin');
  await mkdir(binDir, { recursive: true });
  const go = options.go ?? 'go';
  const progress = options.onProgress ?? (() => {});
  const prometheus = await ensureTarget(prometheusTargets.prometheus, binDir, go, progress);
  const promtool = await ensureTarget(prometheusTargets.promtool, binDir, go, progress);
  return { prometheus, promtool };
}


/**
 * The default cache root: PAVED_CACHE_DIR, else ~/.cache/paved. Read here rather than through
 * src/config.ts because the set-up script and the test set-up use it without the controller's config.
 */
export function defaultCacheDir(): string {
  const dir = process.env['PAVED_CACHE_DIR']?.trim();
  return dir ? dir : join(homedir(), '.cache', 'paved');
}

async function cacheKey(target: Target): Promise<string> {
  const hash = createHash('sha256');
  for (const f of target.files) {
    hash.update(f);
    hash.update(await readFile(join(target.moduleDir, f)));
  }
  return hash.digest('hex').slice(0, 16);
}

/** Returns the cached binaries, building whichever is missing. */
export async function ensureBinaries(options: BuildOptions = {}): Promise<Binaries> {
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const progress = options.onProgress ?? (() => {});
  const binDir = join(cacheDir, 'bin');
  await mkdir(binDir, { recursive: true });
  const go = options.go ?? 'go';
  const controlPlane = await ensureTarget(targets.controlPlane, binDir, go, progress);
  const kwok = await ensureTarget(targets.kwok, binDir, go, progress);
  const kwokConfigs = await kwokConfigFiles(go);
  if (options.exporters === false) return { controlPlane, kwok, kwokConfigs };
  const kubeStateMetrics = await ensureTarget(targets.kubeStateMetrics, binDir, go, progress);
  const metricsServer = await ensureTarget(targets.metricsServer, binDir, go, progress);
  return { controlPlane, kwok, kwokConfigs, kubeStateMetrics, metricsServer };
}

/** kwok's upstream configuration documents the local cluster loads (paths inside kwok's module). */
const KWOK_CONFIG_PATHS = [
  'kustomize/stage/node/fast/node-initialize.yaml',
  'kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'kustomize/stage/pod/fast/pod-ready.yaml',
  'kustomize/stage/pod/fast/pod-complete.yaml',
  'kustomize/stage/pod/fast/pod-delete.yaml',
  // Simulated usage: CPU and memory from the pod annotations kwok.x-k8s.io/usage-cpu and
  // kwok.x-k8s.io/usage-memory (default 1m and 1Mi), served as kubelet /metrics/resource.
  'kustomize/metrics/usage/usage-from-annotation.yaml',
  'kustomize/metrics/resource/metrics-resource.yaml',
];

/**
 * Where kwok's module source is in the Go module cache. `go mod download` in the kwok module checks
 * the download against go.sum and answers from the cache without network when it is there.
 */
async function kwokConfigFiles(go: string): Promise<string[]> {
  const dir = await moduleSourceDir(go, join(TOOLS_DIR, 'kwok'), `sigs.k8s.io/kwok@${KWOK_VERSION}`);
  const files = KWOK_CONFIG_PATHS.map((p) => join(dir, p));
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length) {
    throw new SetupError(`kwok's module copy lacks ${missing.join(', ')}`, `run \`go clean -modcache\` and start again`);
  }
  return files;
}

/** The directory of `module@version`'s source in the module cache (downloaded when missing). */
export async function moduleSourceDir(go: string, cwd: string, moduleAtVersion: string): Promise<string> {
  const result = await goModDownload(go, cwd, [moduleAtVersion]).catch((err: Error) => ({
    code: -1,
    modules: [],
    stderr: [`cannot run ${go}: ${err.message}`],
  }));
  const dir = result.code === 0 ? result.modules[0]?.Dir : undefined;
  if (!dir) {
    throw new SetupError(
      `go mod download ${moduleAtVersion} failed (exit ${result.code})`,
      'check network access to the Go module proxy (or GOFLAGS=-mod=mod / GOPROXY settings) and re-run',
      result.stderr.slice(-20).join('\n'),
    );
  }
  return dir;
}

// kubectl: the multi-call binary called by the name kubectl.

/**
 * Returns `<cache>/bin/kubectl`, a link to the control-plane binary (built if missing), which runs
 * kubectl when called by that name: so kubectl is always the cluster's version. The link is
 * replaced atomically (a concurrent run never sees a missing or half-made link).
 */
export async function ensureKubectl(options: BuildOptions = {}): Promise<string> {
  const { controlPlane } = await ensureBinaries(options);
  const link = join(options.cacheDir ?? defaultCacheDir(), 'bin', 'kubectl');
  if ((await readlink(link).catch(() => undefined)) === controlPlane) return link;
  const partial = `${link}.partial-${process.pid}`;
  await rm(partial, { force: true });
  await symlink(controlPlane, partial);
  await rename(partial, link);
  return link;
}

/** The shell line that puts the local cluster's kubectl on PATH and points it at `kubeconfigPath`. */
export function kubectlPathLine(kubectl: string, kubeconfigPath: string): string {
  const quote = (s: string) => (/^[\w./+-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`);
  return `export PATH=${quote(dirname(kubectl))}:"$PATH" KUBECONFIG=${quote(kubeconfigPath)}`;
}


/** Where a target's binary lives (built or not): used by benchmarks to force a cold build. */
export async function binaryPath(name: keyof typeof targets, cacheDir = defaultCacheDir()): Promise<string> {
  const target = targets[name];
  return join(cacheDir, 'bin', target.fileName(await cacheKey(target)));
}

async function ensureTarget(target: Target, binDir: string, go: string, progress: (l: string) => void): Promise<string> {
  const output = join(binDir, target.fileName(await cacheKey(target)));
  if (existsSync(output)) return output;
  await checkGo(go);
  checkDisk(binDir);
  progress(`building ${target.label}: a cold build takes ${target.expectedMinutes} minutes on 2 cores`);
  const partial = `${output}.partial-${process.pid}`;
  const started = Date.now();
  const ticker = setInterval(
    () => progress(`  still building ${target.label.split(' (')[0]}: ${Math.round((Date.now() - started) / 1000)} s`),
    30_000,
  );
  try {
    const { code, tail } = await runCommand(go, target.args(partial), {
      cwd: target.moduleDir,
      onLine: (line) => line.trim() && progress(`  go: ${line.trim()}`),
    });
    if (code !== 0) {
      throw new SetupError(
        `go build of ${target.label} failed (exit ${code})`,
        'read the go output below; check network access to the Go module proxy and free disk space, then re-run',
        tail,
      );
    }
    await rename(partial, output); // atomic: a failed or concurrent build never leaves a half binary
    progress(`built ${target.label} in ${Math.round((Date.now() - started) / 1000)} s -> ${output}`);
    return output;
  } finally {
    clearInterval(ticker);
    await rm(partial, { force: true });
  }
}

async function checkGo(go: string): Promise<void> {
  const { code } = await runCommand(go, ['version']).catch(() => ({ code: -1, tail: '' }));
  if (code !== 0) {
    throw new SetupError(
      'the Go toolchain is missing: the local cluster is built from the Kubernetes Go modules',
      'install Go 1.26 or newer (https://go.dev/dl, or your package manager) and put `go` on PATH; ' +
        'or point PAVED_TEST_KUBECONFIG / KUBECONFIG at an existing cluster',
    );
  }
}

function checkDisk(dir: string): void {
  const stats = statfsSync(dir);
  const free = stats.bavail * stats.bsize;
  if (free < MIN_FREE_BYTES) {
    throw new SetupError(
      `not enough free disk to build the local cluster: ${(free / 1024 ** 3).toFixed(1)} GiB free in ${dir}, ` +
        `${MIN_FREE_BYTES / 1024 ** 3} GiB needed`,
      'free disk space (for example `go clean -cache`), or set PAVED_CACHE_DIR to a larger disk',
    );
  }
}
