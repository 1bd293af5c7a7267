/**
 * prometheus-operator ServiceMonitor, when its CRDs are installed. It scrapes through the track Services
 * (`<name>-stable`, `<name>-canary`): every pod belongs to exactly one, so nothing is scraped twice, and
 * every series carries `service` and the pod's track label, which canary analysis compares.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { LABEL_ENDPOINT, LABEL_SERVICE, LABEL_TEAM, LABEL_TRACK, objectMeta, type Identity } from './labels.js';
import { separateMetricsPort } from './deployment.js';
import type { NormalizedSpec, WebService } from './spec.js';

export interface ServiceMonitor extends KubernetesObject {
  apiVersion: 'monitoring.coreos.com/v1';
  kind: 'ServiceMonitor';
  spec: Record<string, unknown>;
}

export function renderServiceMonitor(ws: WebService, id: Identity, spec: NormalizedSpec): ServiceMonitor | undefined {
  const m = spec.observability.metrics;
  if (!m.enabled) return undefined;
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: objectMeta(id, ws, id.name),
    spec: {
      selector: {
        matchLabels: { [LABEL_SERVICE]: id.name },
        matchExpressions: [{ key: LABEL_ENDPOINT, operator: 'In', values: ['stable', 'canary'] }],
      },
      namespaceSelector: { matchNames: [id.namespace] },
      endpoints: [{ port: separateMetricsPort(spec) !== undefined ? 'metrics' : 'http', path: m.path, interval: '30s' }],
      podTargetLabels: [LABEL_TRACK, LABEL_TEAM],
    },
  };
}
