/**
 * The exporters of the local cluster: kube-state-metrics (object state as series, with the label
 * allowlist paved's cost and dashboard queries join on) and metrics-server (the resource metrics
 * API that HorizontalPodAutoscalers and `kubectl top` read). Both read the simulated kubelets of
 * kwok, whose per-node /metrics/resource endpoints follow each pod's usage annotations.
 *
 * metrics-server is an aggregated API server: kube-apiserver reaches it through an APIService backed
 * by an ExternalName Service naming 127.0.0.1 (there is no pod network here), verifying its serving
 * certificate against the local CA and proving itself with the front-proxy client certificate.
 */
import { ApiregistrationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { SetupError } from '../errors.js';
import { probe, waitFor } from './net.js';
import type { LocalPki } from './pki.js';
import { startProcess, type ManagedProcess } from './process.js';

/** One endpoint Prometheus should scrape. */
export interface ScrapeTarget {
  readonly job: string;
  /** host:port */
  readonly hostPort: string;
  readonly metricsPath: string;
  readonly scheme: 'http' | 'https';
  /** Extra target labels (for example `node` on kwok's per-node endpoints). */
  readonly labels?: Readonly<Record<string, string>>;
}

/** The pod annotations kwok's usage-from-annotation ClusterResourceUsage reads (upstream's names). */
export const USAGE_ANNOTATIONS = { cpu: 'kwok.x-k8s.io/usage-cpu', memory: 'kwok.x-k8s.io/usage-memory' } as const;
/** What kwok reports for a container without usage annotations (upstream's defaults). */
export const DEFAULT_USAGE = { cpu: '1m', memory: '1Mi' } as const;

/** Namespace and pod labels exported by kube-state-metrics as `label_<sanitized name>`. */
export const KSM_LABEL_ALLOWLIST = {
  namespaces: ['paved.dev/team', 'paved.dev/environment'],
  pods: ['paved.dev/service'],
} as const;

/** kube-state-metrics' `--metric-labels-allowlist` value: `namespaces=[a,b],pods=[c]`. */
export function ksmLabelAllowlist(allowlist: Readonly<Record<string, readonly string[]>> = KSM_LABEL_ALLOWLIST): string {
  return Object.entries(allowlist).map(([kind, labels]) => `${kind}=[${labels.join(',')}]`).join(',');
}

/** kwok's kubelet-style resource metrics of one node (path set by upstream's metrics-resource Metric). */
export function kwokResourceMetricsPath(node: string): string {
  return `/metrics/nodes/${node}/metrics/resource`;
}

/** Scrape targets of kwok's per-node resource metrics (the local cAdvisor stand-in). */
export function kwokScrapeTargets(hostPort: string, nodes: readonly string[]): ScrapeTarget[] {
  return nodes.map((node) => ({
    job: 'kubelet-resource',
    hostPort,
    metricsPath: kwokResourceMetricsPath(node),
    scheme: 'https',
    labels: { node },
  }));
}

export interface ExporterPorts {
  readonly kubeStateMetrics: number;
  readonly kubeStateMetricsTelemetry: number;
  readonly metricsServer: number;
}

export interface StartExportersInput {
  readonly dir: string;
  readonly binaries: { readonly kubeStateMetrics: string; readonly metricsServer: string };
  readonly kubeconfigs: { readonly kubeStateMetrics: string; readonly metricsServer: string };
  readonly pki: LocalPki;
  readonly ports: ExporterPorts;
  readonly admin: KubeConfig;
  readonly healthTimeoutMs: number;
  readonly track: (p: ManagedProcess) => ManagedProcess;
}

/** Starts kube-state-metrics and metrics-server and registers metrics.k8s.io; returns their scrape targets. */
export async function startExporters(input: StartExportersInput): Promise<ScrapeTarget[]> {
  const { dir, binaries, kubeconfigs, pki, ports, track } = input;
  const ksm = track(
    startProcess('kube-state-metrics', binaries.kubeStateMetrics, [
      `--kubeconfig=${kubeconfigs.kubeStateMetrics}`,
      '--host=127.0.0.1', `--port=${ports.kubeStateMetrics}`,
      '--telemetry-host=127.0.0.1', `--telemetry-port=${ports.kubeStateMetricsTelemetry}`,
      `--metric-labels-allowlist=${ksmLabelAllowlist()}`,
    ], `${dir}/kube-state-metrics.log`),
  );
  const metricsServer = track(
    startProcess('metrics-server', binaries.metricsServer, [
      `--kubeconfig=${kubeconfigs.metricsServer}`,
      `--authentication-kubeconfig=${kubeconfigs.metricsServer}`,
      `--authorization-kubeconfig=${kubeconfigs.metricsServer}`,
      '--bind-address=127.0.0.1', `--secure-port=${ports.metricsServer}`,
      `--tls-cert-file=${pki.metricsServer.cert}`, `--tls-private-key-file=${pki.metricsServer.key}`,
      // kwok's nodes carry InternalIP 127.0.0.1 and kwok's port as their kubelet port.
      '--kubelet-preferred-address-types=InternalIP', '--kubelet-use-node-status-port',
      `--kubelet-certificate-authority=${pki.servingCa}`,
      '--metric-resolution=10s', // its minimum: HPAs in tests react within seconds, not a minute
      '--kubelet-request-timeout=5s', // must stay under 90% of the resolution
    ], `${dir}/metrics-server.log`),
  );
  await registerMetricsApi(input.admin, pki, ports.metricsServer);
  await Promise.all([
    waitUp(ksm, `http://127.0.0.1:${ports.kubeStateMetrics}/healthz`, input.healthTimeoutMs),
    waitUp(metricsServer, `https://127.0.0.1:${ports.metricsServer}/livez`, input.healthTimeoutMs),
  ]);
  return [{ job: 'kube-state-metrics', hostPort: `127.0.0.1:${ports.kubeStateMetrics}`, metricsPath: '/metrics', scheme: 'http' }];
}

/** The Service and APIService through which kube-apiserver proxies metrics.k8s.io to metrics-server. */
async function registerMetricsApi(admin: KubeConfig, pki: LocalPki, port: number): Promise<void> {
  const core = admin.makeApiClient(CoreV1Api);
  await core.createNamespacedService({
    namespace: 'kube-system',
    body: {
      metadata: { name: 'metrics-server', labels: { 'app.kubernetes.io/name': 'metrics-server' } },
      spec: { type: 'ExternalName', externalName: '127.0.0.1' },
    },
  });
  await admin.makeApiClient(ApiregistrationV1Api).createAPIService({
    body: {
      metadata: { name: 'v1beta1.metrics.k8s.io', labels: { 'app.kubernetes.io/name': 'metrics-server' } },
      spec: {
        group: 'metrics.k8s.io',
        version: 'v1beta1',
        service: { namespace: 'kube-system', name: 'metrics-server', port },
        caBundle: Buffer.from(pki.servingCaPem).toString('base64'),
        groupPriorityMinimum: 100,
        versionPriority: 100,
      },
    },
  });
}

async function waitUp(proc: ManagedProcess, url: string, timeoutMs: number): Promise<void> {
  let last = '';
  const ok = await waitFor(async () => {
    if (proc.hasExited()) return true;
    const res = await probe(url);
    last = `${res.status} ${res.body.slice(0, 200)}`;
    return res.status === 200;
  }, timeoutMs);
  if (proc.hasExited() || !ok) {
    throw new SetupError(
      proc.hasExited()
        ? `${proc.name} exited (${await proc.exited}) before becoming healthy`
        : `${proc.name} did not become healthy at ${url} within ${timeoutMs} ms (last answer: ${last})`,
      `read ${proc.logFile}; the last lines are below`,
      await proc.tail(),
    );
  }
}
