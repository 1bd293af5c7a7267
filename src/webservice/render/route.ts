/**
 * The public entry of a public service: a Gateway API HTTPRoute when the CRDs are installed, else a
 * networking.k8s.io Ingress, with TLS. The HTTPRoute's backendRefs weight `<name>-stable` and
 * `<name>-canary` (100/0 in the steady state; a rollout passes other weights through the
 * render context); the Ingress cannot weight, so it points at `<name>` (split by replica ratio).
 * Private services get neither, so switching public to private prunes the route.
 */
import type { KubernetesObject, V1Ingress } from '@kubernetes/client-node';
import type { RenderContext } from './context.js';
import { objectMeta, type Identity } from './labels.js';
import { SERVICE_PORT, serviceNames } from './service.js';
import type { NormalizedSpec, WebService } from './spec.js';

/** Gateway API HTTPRoute (gateway.networking.k8s.io/v1), typed for what paved renders. */
export interface HTTPRoute extends KubernetesObject {
  apiVersion: 'gateway.networking.k8s.io/v1';
  kind: 'HTTPRoute';
  spec: {
    parentRefs: Array<{ group: string; kind: string; name: string; namespace: string; sectionName: string }>;
    hostnames: string[];
    rules: Array<{
      matches: Array<{ path: { type: 'PathPrefix'; value: string } }>;
      backendRefs: Array<{ group: string; kind: string; name: string; port: number; weight: number }>;
    }>;
  };
}

/** Steady-state weights. */
export const STEADY_WEIGHTS = Object.freeze({ stable: 100, canary: 0 });

export function renderHttpRoute(
  ws: WebService,
  id: Identity,
  spec: NormalizedSpec,
  ctx: RenderContext,
  weights: { stable: number; canary: number },
): HTTPRoute {
  const names = serviceNames(id.name);
  const backend = (name: string, weight: number) => ({ group: '', kind: 'Service', name, port: SERVICE_PORT, weight });
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: objectMeta(id, ws, id.name),
    spec: {
      parentRefs: [
        {
          group: 'gateway.networking.k8s.io',
          kind: 'Gateway',
          name: ctx.platform.gatewayName,
          namespace: ctx.platform.gatewayNamespace,
          sectionName: spec.networking.tls.enabled ? ctx.platform.gatewayHttpsListener : ctx.platform.gatewayHttpListener,
        },
      ],
      hostnames: [spec.networking.host ?? ''],
      rules: [
        {
          matches: spec.networking.paths.map((value) => ({ path: { type: 'PathPrefix' as const, value } })),
          backendRefs: [backend(names.stable, weights.stable), backend(names.canary, weights.canary)],
        },
      ],
    },
  };
}

export function renderIngress(ws: WebService, id: Identity, spec: NormalizedSpec, ctx: RenderContext): V1Ingress {
  const host = spec.networking.host ?? '';
  const tls = spec.networking.tls;
  const meta = objectMeta(id, ws, id.name);
  const annotations = tls.enabled && ctx.platform.clusterIssuer ? { 'cert-manager.io/cluster-issuer': ctx.platform.clusterIssuer } : undefined;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { ...meta, ...(annotations ? { annotations } : {}) },
    spec: {
      ...(ctx.platform.ingressClassName ? { ingressClassName: ctx.platform.ingressClassName } : {}),
      ...(tls.enabled ? { tls: [{ hosts: [host], secretName: tls.secretName ?? `${id.name}-tls` }] } : {}),
      rules: [
        {
          host,
          http: {
            paths: spec.networking.paths.map((path) => ({
              path,
              pathType: 'Prefix',
              backend: { service: { name: serviceNames(id.name).primary, port: { name: 'http' } } },
            })),
          },
        },
      ],
    },
  };
}
