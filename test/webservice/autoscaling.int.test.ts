/**
 * A real HorizontalPodAutoscaler, as paved's renderer writes it, scaling on simulated CPU: the
 * WebService's pods declare their use through `spec.overrides.annotations` (kwok's usage annotations,
 * an ordinary pod annotation to the renderer), metrics-server reads kwok's kubelet endpoints, and
 * the controller-manager's HPA controller scales the Deployment up when the use rises and down when
 * it falls.
 */
import { AppsV1Api, AutoscalingV2Api, type KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { applyObject, KubeClients } from '../../src/kube/index.js';
import { USAGE_ANNOTATIONS } from '../../src/localcluster/exporters.js';
import { renderWebService, DEFAULT_PLATFORM, type WebService } from '../../src/webservice/index.js';
import { adminKubeConfig, createTestNamespace } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { sharedClusterHasExporters } from '../support/prometheus.js';

const kc = adminKubeConfig();
const apps = kc.makeApiClient(AppsV1Api);
const autoscaling = kc.makeApiClient(AutoscalingV2Api);

/** A WebService whose pods request 100m CPU each and use `cpu` (simulated by kwok). */
function webService(namespace: string, cpu: string): WebService {
  return {
    apiVersion: 'paved.dev/v1alpha1',
    kind: 'WebService',
    metadata: { name: 'api', namespace }, // no uid: no owner reference the garbage collector would follow
    spec: {
      image: 'registry.example/api:1.0.0',
      scaling: { minReplicas: 1, maxReplicas: 4, targetCPUUtilization: 50 },
      overrides: {
        resources: { requests: { cpu: '100m', memory: '128Mi' } },
        annotations: { [USAGE_ANNOTATIONS.cpu]: cpu, [USAGE_ANNOTATIONS.memory]: '64Mi' },
      },
    },
  };
}

/** Applies everything the renderer makes for the service, in its order (ServiceAccount first). */
async function applyRendered(ws: WebService): Promise<void> {
  const clients = KubeClients.fromKubeConfig(kc);
  const { objects } = renderWebService(ws, { capabilities: { gatewayApi: false, prometheusOperator: false }, platform: DEFAULT_PLATFORM, team: 'team-hpa' });
  expect(objects.map((o) => o.kind)).toContain('HorizontalPodAutoscaler');
  for (const o of objects) await applyObject(clients, o as unknown as KubernetesObject);
}

describe.skipIf(!sharedClusterHasExporters())('HorizontalPodAutoscaler rendered by paved, on simulated CPU', () => {
  it('scales the Deployment up when CPU use rises above the target and back down when it falls', async () => {
    const ns = await createTestNamespace('hpa');
    await applyRendered(webService(ns, '20m')); // 20% of the request: below the 50% target
    await eventually(async () => {
      const hpa = await autoscaling.readNamespacedHorizontalPodAutoscaler({ name: 'api', namespace: ns });
      const cpu = hpa.status?.currentMetrics?.[0]?.resource?.current.averageUtilization;
      expect(cpu).toBeDefined();
      expect(cpu).toBeLessThan(50);
      expect(hpa.status?.desiredReplicas).toBe(1);
    }, { timeoutMs: 120_000, intervalMs: 2_000 });

    await applyRendered(webService(ns, '180m')); // 180%: ceil(replicas * 180 / 50) > 4, capped at max
    await eventually(async () => {
      const d = await apps.readNamespacedDeployment({ name: 'api', namespace: ns });
      expect(d.spec?.replicas).toBe(4);
      expect(d.status?.readyReplicas).toBe(4);
    }, { timeoutMs: 180_000, intervalMs: 2_000 });

    await applyRendered(webService(ns, '10m')); // 10%: back to the minimum
    await eventually(async () => {
      const d = await apps.readNamespacedDeployment({ name: 'api', namespace: ns });
      expect(d.spec?.replicas).toBe(1);
    }, { timeoutMs: 180_000, intervalMs: 2_000 });
    const hpa = await autoscaling.readNamespacedHorizontalPodAutoscaler({ name: 'api', namespace: ns });
    expect(hpa.spec?.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'api' });
  });
});
