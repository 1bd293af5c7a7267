/**
 * The service's NetworkPolicy. Ingress: from the gateway namespace (public services only), from the
 * monitoring namespace on the metrics port, and from the pods of the declared dependents (WebServices
 * that list this one in `networking.dependencies`). Egress: to the declared dependencies, to cluster DNS,
 * and to the OpenTelemetry collector when tracing is on. Everything else is denied for these pods.
 *
 * Namespaces are matched by their immutable `kubernetes.io/metadata.name` label.
 */
import type { KubernetesObject, V1NetworkPolicyPeer, V1NetworkPolicyPort } from '@kubernetes/client-node';
import type { RenderContext, ServiceRef } from './context.js';
import { appPort, separateMetricsPort } from './deployment.js';
import { LABEL_SERVICE, objectMeta, serviceSelector, type Identity } from './labels.js';
import type { NormalizedSpec, WebService } from './spec.js';

const NS_NAME = 'kubernetes.io/metadata.name';

// client-node's model names the `from` field `_from`; paved renders plain JSON, so it types the rules here.
type Peer = Omit<V1NetworkPolicyPeer, 'ipBlock'>;
interface IngressRule {
  from: Peer[];
  ports?: V1NetworkPolicyPort[];
}
interface EgressRule {
  to: Peer[];
  ports?: V1NetworkPolicyPort[];
}

/** networking.k8s.io/v1 NetworkPolicy as paved renders it. */
export interface NetworkPolicy extends KubernetesObject {
  spec: {
    podSelector: { matchLabels: Record<string, string> };
    policyTypes: Array<'Ingress' | 'Egress'>;
    /** Omitted when empty (the API server drops an empty list): no ingress at all is allowed then. */
    ingress?: IngressRule[];
    egress: EgressRule[];
  };
}

function peer(ref: ServiceRef): Peer {
  return {
    namespaceSelector: { matchLabels: { [NS_NAME]: ref.namespace } },
    podSelector: { matchLabels: { [LABEL_SERVICE]: ref.service } },
  };
}

/** Sorted, de-duplicated references (stable output whatever order the cache lists them in). */
export function sortRefs(refs: readonly ServiceRef[]): ServiceRef[] {
  const seen = new Map<string, ServiceRef>();
  for (const r of refs) seen.set(`${r.namespace}/${r.service}`, { service: r.service, namespace: r.namespace });
  return [...seen.keys()].sort().map((k) => seen.get(k) as ServiceRef);
}

/** The dependencies of a spec with their namespaces resolved. */
export function dependencyRefs(id: Identity, spec: NormalizedSpec): ServiceRef[] {
  return sortRefs(spec.networking.dependencies.map((d) => ({ service: d.service, namespace: d.namespace ?? id.namespace })));
}

function ingressRules(id: Identity, spec: NormalizedSpec, ctx: RenderContext): IngressRule[] {
  const http = [{ protocol: 'TCP', port: appPort(spec) }];
  const rules: IngressRule[] = [];
  if (spec.networking.visibility === 'public') {
    rules.push({ from: [{ namespaceSelector: { matchLabels: { [NS_NAME]: ctx.platform.gatewayNamespace } } }], ports: http });
  }
  if (spec.observability.metrics.enabled) {
    const port = separateMetricsPort(spec) ?? appPort(spec);
    rules.push({
      from: [{ namespaceSelector: { matchLabels: { [NS_NAME]: ctx.platform.monitoringNamespace } } }],
      ports: [{ protocol: 'TCP', port }],
    });
  }
  const dependents = sortRefs(ctx.dependents ?? []).filter((r) => !(r.namespace === id.namespace && r.service === id.name));
  if (dependents.length) rules.push({ from: dependents.map(peer), ports: http });
  return rules;
}

function egressRules(id: Identity, spec: NormalizedSpec, ctx: RenderContext): EgressRule[] {
  const rules: EgressRule[] = [
    {
      to: [
        {
          namespaceSelector: { matchLabels: { [NS_NAME]: ctx.platform.dnsNamespace } },
          podSelector: { matchLabels: { ...ctx.platform.dnsPodLabels } },
        },
      ],
      ports: [
        { protocol: 'UDP', port: 53 },
        { protocol: 'TCP', port: 53 },
      ],
    },
  ];
  const deps = dependencyRefs(id, spec);
  if (deps.length) rules.push({ to: deps.map(peer) });
  if (spec.observability.tracing) {
    rules.push({
      to: [{ namespaceSelector: { matchLabels: { [NS_NAME]: ctx.platform.monitoringNamespace } } }],
      ports: [
        { protocol: 'TCP', port: 4317 },
        { protocol: 'TCP', port: 4318 },
      ],
    });
  }
  return rules;
}

export function renderNetworkPolicy(ws: WebService, id: Identity, spec: NormalizedSpec, ctx: RenderContext): NetworkPolicy {
  const ingress = ingressRules(id, spec, ctx);
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: objectMeta(id, ws, id.name),
    spec: {
      podSelector: { matchLabels: serviceSelector(id) },
      policyTypes: ['Ingress', 'Egress'],
      ...(ingress.length ? { ingress } : {}),
      egress: egressRules(id, spec, ctx),
    },
  };
}
