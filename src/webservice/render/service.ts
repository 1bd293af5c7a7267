/**
 * Services. Three, always: `<name>` selects every pod of the service (in-cluster callers and the Ingress;
 * with a canary running, traffic splits by replica ratio), `<name>-stable` and `<name>-canary` select one
 * track each (the HTTPRoute weights them; the ServiceMonitor scrapes through them so every series carries
 * its track). Rendering the track Services in the steady state means a rollout never creates or deletes
 * a Service, so it cannot race the gateway's endpoint discovery.
 */
import type { V1Service, V1ServicePort } from '@kubernetes/client-node';
import { LABEL_ENDPOINT, objectMeta, serviceSelector, trackSelector, type Identity, type Track } from './labels.js';
import { separateMetricsPort } from './deployment.js';
import type { NormalizedSpec, WebService } from './spec.js';

/** The port every Service exposes for HTTP. */
export const SERVICE_PORT = 80;

function ports(spec: NormalizedSpec): V1ServicePort[] {
  const out: V1ServicePort[] = [{ name: 'http', port: SERVICE_PORT, targetPort: 'http', protocol: 'TCP' }];
  const metrics = separateMetricsPort(spec);
  if (metrics !== undefined) out.push({ name: 'metrics', port: metrics, targetPort: 'metrics', protocol: 'TCP' });
  return out;
}

/** The Service names of a WebService. */
export function serviceNames(name: string): { primary: string; stable: string; canary: string } {
  return { primary: name, stable: `${name}-stable`, canary: `${name}-canary` };
}

function service(ws: WebService, id: Identity, spec: NormalizedSpec, name: string, role: 'primary' | Track): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: objectMeta(id, ws, name, { [LABEL_ENDPOINT]: role }),
    spec: {
      type: 'ClusterIP',
      selector: role === 'primary' ? serviceSelector(id) : trackSelector(id, role),
      ports: ports(spec),
    },
  };
}

/** `<name>`, `<name>-stable`, `<name>-canary`. */
export function renderServices(ws: WebService, id: Identity, spec: NormalizedSpec): V1Service[] {
  const names = serviceNames(id.name);
  return [
    service(ws, id, spec, names.primary, 'primary'),
    service(ws, id, spec, names.stable, 'stable'),
    service(ws, id, spec, names.canary, 'canary'),
  ];
}
