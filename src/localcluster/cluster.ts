/**
 * A real local Kubernetes cluster without Docker: embedded etcd, kube-apiserver,
 * kube-controller-manager and kube-scheduler (one multi-call binary built from the Kubernetes Go
 * modules) and kwok simulating the kubelets of a few Nodes, so Deployments really roll and Pods
 * become Ready. kwok also simulates container usage (from pod annotations, see exporters.ts) and serves
 * it as kubelet-style resource metrics; with `exporters`, kube-state-metrics and metrics-server run
 * too. Everything binds to 127.0.0.1 on free ports inside one temp directory, which `stop()` removes
 * along with every process.
 */
import { randomBytes, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, type V1Node } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { SetupError } from '../errors.js';
import { ensureBinaries, type Binaries } from './binaries.js';
import { kwokScrapeTargets, kwokResourceMetricsPath, startExporters, type ScrapeTarget } from './exporters.js';
import { writeLocalPki, type LocalPki } from './pki.js';
import { freePort, probe, waitFor } from './net.js';
import { reapOrphans, releaseRunDir, startProcess, writeOwner, type ManagedProcess } from './process.js';

export const RUN_DIR_PREFIX = 'paved-cluster-';

/** The non-admin people of the local cluster, for RBAC and tenant-isolation tests. */
export const LOCAL_IDENTITIES = {
  alice: ['team-a'],
  bob: ['team-b'],
  carol: ['paved:finance'],
} as const satisfies Record<string, readonly string[]>;

export type IdentityName = 'admin' | keyof typeof LOCAL_IDENTITIES;

export interface LocalCluster {
  readonly dir: string;
  /** https://127.0.0.1:PORT */
  readonly server: string;
  /** Kubeconfig of the cluster-admin identity. */
  readonly kubeconfigPath: string;
  /** Kubeconfig path per identity (admin included). */
  readonly kubeconfigs: Readonly<Record<IdentityName, string>>;
  readonly auditLog: string;
  readonly processes: readonly ManagedProcess[];
  /**
   * What a Prometheus should scrape: kwok's per-node resource metrics (always) and, when started
   * with `exporters`, kube-state-metrics. See scrapeLocalCluster in prometheus.ts.
   */
  readonly scrapeTargets: readonly ScrapeTarget[];
  /** Whether kube-state-metrics and metrics-server (and so metrics.k8s.io) run. */
  readonly exporters: boolean;
  /** Stops kube-apiserver, waits `downMs`, starts it again with the same flags and waits until ready. */
  restartApiServer(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface StartClusterOptions {
  readonly binaries?: Binaries;
  /** Simulated nodes (default 2). */
  readonly nodes?: number;
  readonly onProgress?: (line: string) => void;
  /** How long each component may take to become healthy (default 60 s). */
  readonly healthTimeoutMs?: number;
  /**
   * Also run kube-state-metrics and metrics-server (default false): real object-state series and a
   * resource metrics API, so HorizontalPodAutoscalers scale on kwok's simulated usage.
   */
  readonly exporters?: boolean;
  /**
   * kube-controller-manager controllers to leave off (its `--controllers` names, e.g.
   * `horizontal-pod-autoscaler-controller`). For benchmarks whose load is not theirs to measure.
   */
  readonly disabledControllers?: readonly string[];
}

const AUDIT_POLICY = {
  apiVersion: 'audit.k8s.io/v1',
  kind: 'Policy',
  omitStages: ['RequestReceived'],
  rules: [
    { level: 'None', users: ['system:kube-controller-manager', 'system:kube-scheduler', 'kwok', 'kube-state-metrics', 'metrics-server'] },
    { level: 'Metadata', verbs: ['create', 'update', 'patch', 'delete', 'deletecollection'] },
    // Watches of ServiceAccounts (paved's identity in a cluster): how a test counts the watches one
    // process opens (the API server's own gauge counts every client of the shared cluster).
    { level: 'Metadata', verbs: ['watch'], userGroups: ['system:serviceaccounts'] },
    { level: 'None' },
  ],
};

/** The binaries given, else the cached (or freshly built) ones; exporters need theirs. */
async function clusterBinaries(options: StartClusterOptions, withExporters: boolean, progress: (line: string) => void): Promise<Binaries> {
  const binaries = options.binaries ?? (await ensureBinaries({ onProgress: progress, exporters: withExporters }));
  if (withExporters && (!binaries.kubeStateMetrics || !binaries.metricsServer)) {
    throw new SetupError('exporters were asked for, but the binaries given have no kube-state-metrics or metrics-server',
      'build them with ensureBinaries({ exporters: true })');
  }
  return binaries;
}

/** etcd's flags: data in the run directory, loopback client and peer URLs. */
function etcdArgs(dir: string, port: number, peerPort: number): string[] {
  return ['etcd', '--data-dir', join(dir, 'etcd'), '--client-url', `http://127.0.0.1:${port}`, '--peer-url', `http://127.0.0.1:${peerPort}`];
}

/** The kubeconfigs writeKubeconfigs made for the exporters. */
function exporterKubeconfigs(dir: string): { kubeStateMetrics: string; metricsServer: string } {
  return { kubeStateMetrics: join(dir, 'kube-state-metrics.kubeconfig'), metricsServer: join(dir, 'metrics-server.kubeconfig') };
}

/**
 * Starts a process (kube-apiserver) and waits until it is healthy; returns its restart, which stops
 * it, waits `downMs` (an outage for tests), and starts it again in the same list of processes.
 */
async function startRestartable(
  start: () => ManagedProcess,
  processes: ManagedProcess[],
  healthy: (p: ManagedProcess) => Promise<void>,
): Promise<(downMs?: number) => Promise<void>> {
  let current = start();
  await healthy(current);
  return async (downMs = 0) => {
    await current.stop();
    processes.splice(processes.indexOf(current), 1);
    await new Promise((r) => setTimeout(r, downMs));
    current = start();
    await healthy(current);
  };
}

/** kube-apiserver's flags: RBAC with token auth, audit log, and the aggregation layer for metrics-server. */
function kubeApiServerArgs(dir: string, etcdPort: number, apiPort: number, pki: LocalPki): string[] {
  return [
    'kube-apiserver',
    `--etcd-servers=http://127.0.0.1:${etcdPort}`,
    `--secure-port=${apiPort}`, '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1',
    `--cert-dir=${join(dir, 'pki')}`,
    `--token-auth-file=${join(dir, 'tokens.csv')}`,
    '--authorization-mode=RBAC',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${join(dir, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    '--service-cluster-ip-range=10.96.0.0/16',
    '--endpoint-reconciler-type=none',
    '--allow-privileged=true',
    `--audit-policy-file=${join(dir, 'audit-policy.yaml')}`,
    `--audit-log-path=${join(dir, 'audit.log')}`,
    '--max-requests-inflight=800', '--max-mutating-requests-inflight=400',
    '--profiling=false',
    // The aggregation layer (metrics.k8s.io is served by metrics-server through it).
    `--requestheader-client-ca-file=${pki.frontProxyCa}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${pki.frontProxyClient.cert}`,
    `--proxy-client-key-file=${pki.frontProxyClient.key}`,
  ];
}

/** The flags kube-controller-manager and kube-scheduler share: their kubeconfig, no leader election, loopback. */
function componentFlags(dir: string, kubeconfig: string, port: number): string[] {
  return [
    `--kubeconfig=${kubeconfig}`, `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`, '--leader-elect=false',
    '--bind-address=127.0.0.1', `--secure-port=${port}`, `--cert-dir=${join(dir, 'pki')}`,
    '--kube-api-qps=200', '--kube-api-burst=400',
  ];
}

/** kube-controller-manager's flags: more concurrent syncs, and HPAs tuned for tests. */
function controllerManagerArgs(dir: string, port: number, disabled: readonly string[]): string[] {
  return [
    'kube-controller-manager', ...componentFlags(dir, join(dir, 'kube-controller-manager.kubeconfig'), port),
    ...(disabled.length ? [`--controllers=*,${disabled.map((c) => `-${c}`).join(',')}`] : []),
    `--service-account-private-key-file=${join(dir, 'sa.key')}`,
    '--use-service-account-credentials=false',
    '--concurrent-deployment-syncs=20', '--concurrent-replicaset-syncs=20',
    '--concurrent-namespace-syncs=20', '--concurrent-gc-syncs=40',
    // HPAs tuned for tests: re-evaluate every 2 s, scale down after 10 s of lower use (default
    // 5 min), and count a new pod's CPU soon after it is Ready.
    '--horizontal-pod-autoscaler-sync-period=2s',
    '--horizontal-pod-autoscaler-downscale-stabilization=10s',
    '--horizontal-pod-autoscaler-initial-readiness-delay=1s',
    '--horizontal-pod-autoscaler-cpu-initialization-period=10s',
  ];
}

/** kwok's flags: it manages the annotated nodes only and serves a kubelet-like TLS endpoint. */
function kwokArgs(dir: string, binaries: Binaries, port: number, pki: LocalPki): string[] {
  return [
    `--kubeconfig=${join(dir, 'kwok.kubeconfig')}`, ...binaries.kwokConfigs.map((f) => `--config=${f}`),
    '--manage-all-nodes=false', '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
    `--server-address=127.0.0.1:${port}`, '--node-lease-duration-seconds=40',
    // Nodes get InternalIP 127.0.0.1 and kwok's port as kubelet port; kwok serves TLS there like a kubelet.
    '--node-ip=127.0.0.1', `--node-port=${port}`,
    `--tls-cert-file=${pki.kwok.cert}`, `--tls-private-key-file=${pki.kwok.key}`,
  ];
}

/** Waits until kwok has made all `count` nodes Ready; a SetupError with kwok's log if it exits or times out. */
async function waitNodesReady(kwok: ManagedProcess, core: CoreV1Api, count: number, timeoutMs: number, binaries: Binaries): Promise<void> {
  const nodesReady = await waitFor(async () => {
    if (kwok.hasExited()) return true;
    const nodes = await core.listNode().catch(() => undefined);
    return (nodes?.items ?? []).filter(isNodeReady).length === count;
  }, timeoutMs);
  if (!nodesReady || kwok.hasExited()) {
    throw new SetupError(
      kwok.hasExited() ? `kwok exited (${await kwok.exited})` : `nodes did not become Ready within ${timeoutMs} ms`,
      `check the kwok log below; its configuration: ${binaries.kwokConfigs.join(', ')}`,
      await kwok.tail(),
    );
  }
}

/** Starts a local cluster; on any failure everything started so far is stopped and removed. */
export async function startLocalCluster(options: StartClusterOptions = {}): Promise<LocalCluster> {
  const progress = options.onProgress ?? (() => {});
  const healthTimeoutMs = options.healthTimeoutMs ?? 60_000;
  const reaped = reapOrphans(RUN_DIR_PREFIX);
  if (reaped > 0) progress(`removed ${reaped} local cluster(s) left behind by a dead process`);
  const withExporters = options.exporters ?? false;
  const binaries = await clusterBinaries(options, withExporters, progress);

  const dir = mkdtempSync(join(tmpdir(), RUN_DIR_PREFIX));
  const processes: ManagedProcess[] = [];
  const stop = async () => {
    await Promise.all(processes.map((p) => p.stop()));
    rmSync(dir, { recursive: true, force: true });
    releaseRunDir(dir);
  };
  const track = (p: ManagedProcess) => {
    processes.push(p);
    writeOwner(dir, processes.map((x) => x.pid));
    return p;
  };

  try {
    const started = Date.now();
    const [etcdPort, etcdPeerPort, apiPort, kcmPort, schedPort, kwokPort, ksmPort, ksmTelemetryPort, metricsServerPort] =
      (await Promise.all(Array.from({ length: 9 }, () => freePort()))) as [number, number, number, number, number, number, number, number, number];
    const tokens = await writeCredentials(dir);
    await mkdir(join(dir, 'certs'), { recursive: true });
    const pki = await writeLocalPki(join(dir, 'certs'));

    progress('starting etcd');
    const etcd = track(startProcess('etcd', binaries.controlPlane, etcdArgs(dir, etcdPort, etcdPeerPort), join(dir, 'etcd.log')));
    await waitHealthy(etcd, `http://127.0.0.1:${etcdPort}/health`, undefined, healthTimeoutMs, (b) => b.includes('true'));

    progress('starting kube-apiserver');
    const server = `https://127.0.0.1:${apiPort}`;
    const apiserverArgs = kubeApiServerArgs(dir, etcdPort, apiPort, pki);
    const start = () => track(startProcess('kube-apiserver', binaries.controlPlane, apiserverArgs, join(dir, 'kube-apiserver.log')));
    const restartApiServer = await startRestartable(start, processes, (p) => waitHealthy(p, `${server}/readyz`, tokens.admin, healthTimeoutMs));

    const kubeconfigs = await writeKubeconfigs(dir, server, tokens);
    progress('starting kube-controller-manager and kube-scheduler');
    const kcm = track(startProcess('kube-controller-manager', binaries.controlPlane, controllerManagerArgs(dir, kcmPort, options.disabledControllers ?? []), join(dir, 'kube-controller-manager.log')));
    const scheduler = track(
      startProcess('kube-scheduler', binaries.controlPlane, [
        'kube-scheduler', ...componentFlags(dir, join(dir, 'kube-scheduler.kubeconfig'), schedPort),
      ], join(dir, 'kube-scheduler.log')),
    );
    await Promise.all([
      waitHealthy(kcm, `https://127.0.0.1:${kcmPort}/healthz`, undefined, healthTimeoutMs),
      waitHealthy(scheduler, `https://127.0.0.1:${schedPort}/healthz`, undefined, healthTimeoutMs),
    ]);

    progress('starting kwok (kubelet simulator)');
    const admin = new KubeConfig();
    admin.loadFromFile(kubeconfigs.admin);
    const core = admin.makeApiClient(CoreV1Api);
    const nodeNames = Array.from({ length: options.nodes ?? 2 }, (_, i) => `paved-node-${i}`);
    for (const name of nodeNames) await core.createNode({ body: simulatedNode(name) });
    const kwok = track(startProcess('kwok', binaries.kwok, kwokArgs(dir, binaries, kwokPort, pki), join(dir, 'kwok.log')));
    await waitNodesReady(kwok, core, nodeNames.length, healthTimeoutMs, binaries);
    const scrapeTargets = kwokScrapeTargets(`127.0.0.1:${kwokPort}`, nodeNames);
    if (withExporters && binaries.kubeStateMetrics && binaries.metricsServer) {
      progress('starting kube-state-metrics and metrics-server');
      const exporterBinaries = { kubeStateMetrics: binaries.kubeStateMetrics, metricsServer: binaries.metricsServer };
      const ports = { kubeStateMetrics: ksmPort, kubeStateMetricsTelemetry: ksmTelemetryPort, metricsServer: metricsServerPort };
      scrapeTargets.push(...(await startExporters({ dir, binaries: exporterBinaries, kubeconfigs: exporterKubeconfigs(dir), pki, ports, admin, healthTimeoutMs, track })));
    }
    progress(`local cluster ready at ${server} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return {
      dir,
      server,
      kubeconfigPath: kubeconfigs.admin,
      kubeconfigs,
      auditLog: join(dir, 'audit.log'),
      processes,
      scrapeTargets,
      exporters: withExporters,
      restartApiServer,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitHealthy(
  proc: ManagedProcess,
  url: string,
  token: string | undefined,
  timeoutMs: number,
  accept: (body: string) => boolean = () => true,
): Promise<void> {
  let last = '';
  const ok = await waitFor(async () => {
    if (proc.hasExited()) return true;
    const res = await probe(url, token);
    last = `${res.status} ${res.body.slice(0, 200)}`;
    return res.status === 200 && accept(res.body);
  }, timeoutMs);
  if (proc.hasExited()) {
    const tail = await proc.tail();
    const clash = /address already in use/.test(tail);
    throw new SetupError(
      `${proc.name} exited (${await proc.exited}) before becoming healthy${clash ? ': port clash' : ''}`,
      clash
        ? 'another process took the port between allocation and bind; run again'
        : `read ${proc.logFile}; the last lines are below`,
      tail,
    );
  }
  if (!ok) {
    throw new SetupError(
      `${proc.name} did not become healthy at ${url} within ${timeoutMs} ms (last answer: ${last})`,
      'the machine may be overloaded; read the log lines below',
      await proc.tail(),
    );
  }
}

type SystemUser = 'kube-controller-manager' | 'kube-scheduler' | 'kwok' | 'kube-state-metrics' | 'metrics-server';
type Tokens = Record<IdentityName | SystemUser, string>;

async function writeCredentials(dir: string): Promise<Tokens> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeFile(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs1', format: 'pem' }));
  await writeFile(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  await writeFile(join(dir, 'audit-policy.yaml'), stringify(AUDIT_POLICY));
  await mkdir(join(dir, 'pki'), { recursive: true });
  const token = () => randomBytes(24).toString('hex');
  const tokens: Tokens = {
    admin: token(), alice: token(), bob: token(), carol: token(),
    'kube-controller-manager': token(), 'kube-scheduler': token(), kwok: token(),
    'kube-state-metrics': token(), 'metrics-server': token(),
  };
  // Static tokens: "token,user,uid,groups". The system components run as system:masters here: this
  // cluster exists for tests, and it keeps their RBAC out of the way of what the tests exercise.
  const rows: Array<[string, string, readonly string[]]> = [
    [tokens.admin, 'admin', ['system:masters']],
    [tokens['kube-controller-manager'], 'system:kube-controller-manager', ['system:masters']],
    [tokens['kube-scheduler'], 'system:kube-scheduler', ['system:masters']],
    [tokens.kwok, 'kwok', ['system:masters']],
    [tokens['kube-state-metrics'], 'kube-state-metrics', ['system:masters']],
    [tokens['metrics-server'], 'metrics-server', ['system:masters']],
    ...Object.entries(LOCAL_IDENTITIES).map(
      ([name, groups]): [string, string, readonly string[]] => [tokens[name as IdentityName], name, groups],
    ),
  ];
  await writeFile(join(dir, 'tokens.csv'), rows.map(([t, u, g]) => `${t},${u},${u},"${g.join(',')}"`).join('\n') + '\n');
  return tokens;
}

async function writeKubeconfigs(dir: string, server: string, tokens: Tokens): Promise<Record<IdentityName, string>> {
  // The API server generated its own serving certificate (and the CA that signed it) in pki/.
  const ca = await readFile(join(dir, 'pki', 'apiserver.crt'));
  const write = async (user: string, token: string) => {
    const path = join(dir, `${user}.kubeconfig`);
    const doc = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'paved-local', cluster: { server, 'certificate-authority-data': ca.toString('base64') } }],
      users: [{ name: user, user: { token } }],
      contexts: [{ name: `${user}@paved-local`, context: { cluster: 'paved-local', user } }],
      'current-context': `${user}@paved-local`,
    };
    await writeFile(path, stringify(doc), { mode: 0o600 });
    return path;
  };
  await write('kube-controller-manager', tokens['kube-controller-manager']);
  await write('kube-scheduler', tokens['kube-scheduler']);
  await write('kwok', tokens.kwok);
  await write('kube-state-metrics', tokens['kube-state-metrics']);
  await write('metrics-server', tokens['metrics-server']);
  return {
    admin: await write('admin', tokens.admin),
    alice: await write('alice', tokens.alice),
    bob: await write('bob', tokens.bob),
    carol: await write('carol', tokens.carol),
  };
}

function simulatedNode(name: string): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: {
        'kwok.x-k8s.io/node': 'fake',
        'node.alpha.kubernetes.io/ttl': '0',
        // Where metrics-server finds this node's resource metrics on kwok (not the kubelet's /metrics/resource).
        'metrics.k8s.io/resource-metrics-path': kwokResourceMetricsPath(name),
      },
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node-role.kubernetes.io/agent': '',
        'topology.kubernetes.io/zone': `zone-${name.slice(-1)}`,
        type: 'kwok',
      },
    },
    status: {
      allocatable: { cpu: '64', memory: '256Gi', pods: '1000', 'ephemeral-storage': '1Ti' },
      capacity: { cpu: '64', memory: '256Gi', pods: '1000', 'ephemeral-storage': '1Ti' },
    },
  };
}

function isNodeReady(node: V1Node): boolean {
  return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}
