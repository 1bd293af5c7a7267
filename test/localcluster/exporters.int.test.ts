/**
 * The local cluster's real exporters, seen from a real Prometheus: kwok's simulated container usage
 * follows each pod's usage annotations (and upstream's documented default), kube-state-metrics
 * exports requests and the allowlisted paved.dev labels, and metrics.k8s.io (metrics-server through
 * the aggregation layer) answers what `kubectl top pods` shows.
 */
import { spawnSync } from 'node:child_process';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_USAGE, USAGE_ANNOTATIONS } from '../../src/localcluster/exporters.js';
import { adminKubeConfig, clusterInfo, createTestNamespace } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { scrapeSharedCluster, sharedClusterHasExporters, startPrometheus, type LocalPrometheus } from '../support/prometheus.js';

const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const MI = 1024 * 1024;

function pod(namespace: string, name: string, annotations: Record<string, string>, labels: Record<string, string> = {}): V1Pod {
  return {
    metadata: { name, namespace, annotations, labels },
    spec: {
      containers: [{
        name: 'web',
        image: 'registry.example/web:1.0.0',
        resources: { requests: { cpu: '200m', memory: '128Mi' }, limits: { cpu: '1', memory: '256Mi' } },
      }],
    },
  };
}

async function instant(prom: LocalPrometheus, query: string): Promise<Array<{ metric: Record<string, string>; value: number }>> {
  const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await res.json()) as { status: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  if (body.status !== 'success') throw new Error(`query failed: ${query}`);
  return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
}

async function one(prom: LocalPrometheus, query: string): Promise<{ metric: Record<string, string>; value: number }> {
  const rows = await instant(prom, query);
  expect(rows, query).toHaveLength(1);
  return rows[0]!;
}

/** A CPU quantity as metrics-server writes it (`300m`, `300123456n`, `1`) in millicores. */
function millicores(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(n|u|m)?$/.exec(q);
  if (!m) throw new Error(`not a CPU quantity: ${q}`);
  const scale = { n: 1e-6, u: 1e-3, m: 1 }[m[2] as 'n' | 'u' | 'm'] ?? 1000;
  return Number(m[1]) * scale;
}

async function waitRunning(namespace: string, name: string): Promise<void> {
  await eventually(async () => {
    const p = await core.readNamespacedPod({ name, namespace });
    expect(p.status?.phase).toBe('Running');
  }, { timeoutMs: 60_000 });
}

describe.skipIf(!sharedClusterHasExporters())('local cluster exporters', () => {
  let prom: LocalPrometheus;
  beforeAll(async () => {
    prom = await startPrometheus();
    await scrapeSharedCluster(prom);
  });

  it('serves container usage that follows the usage annotations, and the documented default without them', async () => {
    const ns = await createTestNamespace('usage');
    await core.createNamespacedPod({ namespace: ns, body: pod(ns, 'busy', { [USAGE_ANNOTATIONS.cpu]: '250m', [USAGE_ANNOTATIONS.memory]: '64Mi' }) });
    await core.createNamespacedPod({ namespace: ns, body: pod(ns, 'idle', {}) });
    await Promise.all([waitRunning(ns, 'busy'), waitRunning(ns, 'idle')]);

    const cpuRate = (p: string) => `rate(container_cpu_usage_seconds_total{namespace="${ns}",pod="${p}",container="web"}[5s])`;
    const memory = (p: string) => `container_memory_working_set_bytes{namespace="${ns}",pod="${p}",container="web"}`;
    await eventually(async () => {
      expect((await one(prom, memory('busy'))).value).toBe(64 * MI);
      expect((await one(prom, cpuRate('busy'))).value).toBeCloseTo(0.25, 2);
      expect((await one(prom, memory('idle'))).value).toBe(1 * MI); // DEFAULT_USAGE.memory
      expect((await one(prom, cpuRate('idle'))).value).toBeCloseTo(0.001, 3); // DEFAULT_USAGE.cpu
    }, { timeoutMs: 60_000, intervalMs: 1_000 });
    expect(DEFAULT_USAGE).toEqual({ cpu: '1m', memory: '1Mi' });

    // A change of the annotation on the running pod (no restart) changes what is served.
    await core.patchNamespacedPod(
      { name: 'busy', namespace: ns, body: { metadata: { annotations: { [USAGE_ANNOTATIONS.cpu]: '750m', [USAGE_ANNOTATIONS.memory]: '96Mi' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await eventually(async () => {
      expect((await one(prom, memory('busy'))).value).toBe(96 * MI);
      expect((await one(prom, cpuRate('busy'))).value).toBeCloseTo(0.75, 2);
    }, { timeoutMs: 60_000, intervalMs: 1_000 });
  });

  it('exports requests and the allowlisted paved.dev labels of namespaces and pods through kube-state-metrics', async () => {
    const ns = await createTestNamespace('ksm', { 'paved.dev/team': 'team-ksm', 'paved.dev/environment': 'staging', 'other.example/x': 'y' });
    await core.createNamespacedPod({ namespace: ns, body: pod(ns, 'api-1', {}, { 'paved.dev/service': 'api', unlisted: 'z' }) });
    await waitRunning(ns, 'api-1');
    await eventually(async () => {
      const nsLabels = await one(prom, `kube_namespace_labels{namespace="${ns}"}`);
      expect(nsLabels.metric).toMatchObject({ label_paved_dev_team: 'team-ksm', label_paved_dev_environment: 'staging' });
      expect(nsLabels.metric).not.toHaveProperty('label_other_example_x'); // not allowlisted
      const podLabels = await one(prom, `kube_pod_labels{namespace="${ns}",pod="api-1"}`);
      expect(podLabels.metric).toMatchObject({ label_paved_dev_service: 'api' });
      expect(podLabels.metric).not.toHaveProperty('label_unlisted');
      expect((await one(prom, `kube_pod_container_resource_requests{namespace="${ns}",pod="api-1",resource="cpu"}`)).value).toBe(0.2);
      expect((await one(prom, `kube_pod_container_resource_requests{namespace="${ns}",pod="api-1",resource="memory"}`)).value).toBe(128 * MI);
    }, { timeoutMs: 60_000, intervalMs: 1_000 });
  });

  it('answers metrics.k8s.io through the aggregation layer, as `kubectl top pods` shows', async () => {
    const ns = await createTestNamespace('top');
    await core.createNamespacedPod({ namespace: ns, body: pod(ns, 'busy', { [USAGE_ANNOTATIONS.cpu]: '300m', [USAGE_ANNOTATIONS.memory]: '200Mi' }) });
    await waitRunning(ns, 'busy');
    const metrics = kc.makeApiClient(CustomObjectsApi);
    await eventually(async () => {
      const list = (await metrics.listNamespacedCustomObject({ group: 'metrics.k8s.io', version: 'v1beta1', namespace: ns, plural: 'pods' })) as {
        items: Array<{ metadata: { name: string }; containers: Array<{ name: string; usage: { cpu: string; memory: string } }> }>;
      };
      const busy = list.items.find((i) => i.metadata.name === 'busy');
      expect(busy?.containers[0]?.usage.memory).toMatch(/^(200Mi|204800Ki)$/);
      expect(millicores(busy?.containers[0]?.usage.cpu ?? '')).toBeGreaterThan(290);
      expect(millicores(busy?.containers[0]?.usage.cpu ?? '')).toBeLessThan(310);
    }, { timeoutMs: 90_000, intervalMs: 2_000 });

    const kubectl = spawnSync('kubectl', ['--kubeconfig', clusterInfo().kubeconfigPath, 'top', 'pods', '-n', ns, '--no-headers'], { encoding: 'utf8' });
    if (kubectl.error) return; // no kubectl on PATH: the API answer above is what it would print
    expect(kubectl.status, kubectl.stderr).toBe(0);
    expect(kubectl.stdout).toMatch(/^busy\s+(29\d|30\d)m\s+200Mi/m);
  });
});
