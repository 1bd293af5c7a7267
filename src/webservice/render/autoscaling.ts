/**
 * HorizontalPodAutoscaler (autoscaling/v2) on the stable Deployment: CPU utilisation always, memory and
 * custom per-pod metrics from the configured tier. Rendered only when maxReplicas > minReplicas;
 * otherwise the Deployment carries a fixed `replicas`.
 */
import type { V2HorizontalPodAutoscaler, V2MetricSpec } from '@kubernetes/client-node';
import { objectMeta, type Identity } from './labels.js';
import type { NormalizedSpec, WebService } from './spec.js';

export function renderAutoscaler(ws: WebService, id: Identity, spec: NormalizedSpec): V2HorizontalPodAutoscaler {
  const as = spec.overrides?.autoscaling;
  const metrics: V2MetricSpec[] = [
    {
      type: 'Resource',
      resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.scaling.targetCPUUtilization } },
    },
  ];
  if (as?.targetMemoryUtilization !== undefined) {
    metrics.push({
      type: 'Resource',
      resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: as.targetMemoryUtilization } },
    });
  }
  for (const m of as?.metrics ?? []) {
    metrics.push({
      type: 'Pods',
      pods: { metric: { name: m.name }, target: { type: 'AverageValue', averageValue: m.targetAverageValue } },
    });
  }
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: objectMeta(id, ws, id.name),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: id.name },
      minReplicas: spec.scaling.minReplicas,
      maxReplicas: spec.scaling.maxReplicas,
      metrics,
    },
  };
}
