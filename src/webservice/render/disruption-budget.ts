/**
 * PodDisruptionBudget: at most one pod of the service evicted at a time. maxUnavailable (not
 * minAvailable) so that a single-replica service never blocks a node drain forever.
 */
import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import { objectMeta, serviceSelector, type Identity } from './labels.js';
import type { WebService } from './spec.js';

export function renderDisruptionBudget(ws: WebService, id: Identity): V1PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: objectMeta(id, ws, id.name),
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: serviceSelector(id) },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  };
}
