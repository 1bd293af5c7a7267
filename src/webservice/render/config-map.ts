/**
 * The ConfigMap of `spec.config`, read by the pods as environment (`envFrom`). The pod template carries a
 * hash of the data, so changing the config rolls the pods (through the canary, like any other change).
 */
import type { V1ConfigMap } from '@kubernetes/client-node';
import { configMapName } from './deployment.js';
import { objectMeta, type Identity } from './labels.js';
import type { NormalizedSpec, WebService } from './spec.js';

export function renderConfigMap(ws: WebService, id: Identity, spec: NormalizedSpec): V1ConfigMap | undefined {
  if (!spec.config) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: objectMeta(id, ws, configMapName(id.name)),
    data: { ...spec.config },
  };
}
