/**
 * The inputs of the WebService renderer besides the WebService itself: what the cluster can do
 * (capabilities), how the platform is set up (platform config), and a few facts the reconciler reads
 * from its caches (the team, the dependents, the rollout state). Everything here is plain data, so the
 * renderer stays a pure function and the API's preview can call it with exactly the same inputs.
 */
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import type { PavedConfig } from '../../config.js';
import type { PolicyMode } from '../policy/types.js';

/** Optional APIs detected in the cluster (by discovery). */
export interface Capabilities {
  /** Gateway API (gateway.networking.k8s.io/v1 HTTPRoute) is installed. */
  gatewayApi: boolean;
  /** prometheus-operator (monitoring.coreos.com/v1 ServiceMonitor) is installed. */
  prometheusOperator: boolean;
}

/** How the platform around the services is set up. Built from PavedConfig by `platformFromConfig`. */
export interface PlatformConfig {
  /** Namespace of the shared Gateway (or of the ingress controller): allowed to reach public services. */
  gatewayNamespace: string;
  /** Name of the shared Gateway that HTTPRoutes attach to. */
  gatewayName: string;
  /** Listener names on the Gateway for HTTPS and plain HTTP routes. */
  gatewayHttpsListener: string;
  gatewayHttpListener: string;
  /** IngressClass for Ingresses (clusters without Gateway API); the cluster default when absent. */
  ingressClassName?: string;
  /** cert-manager ClusterIssuer annotated on TLS Ingresses, when set. */
  clusterIssuer?: string;
  /** Namespace of Prometheus (allowed to scrape the metrics port) and of the OpenTelemetry collector. */
  monitoringNamespace: string;
  /** OTLP endpoint injected when tracing is on. */
  otelEndpoint: string;
  /** Namespace and pod labels of the cluster DNS (egress on port 53 is allowed to it). */
  dnsNamespace: string;
  dnsPodLabels: Readonly<Record<string, string>>;
  /** Registries images may come from (prefixes such as `ghcr.io/acme`); empty allows any. */
  allowedRegistries: readonly string[];
  /** Per-policy mode overrides (`enforce` or `audit`); rules not listed keep their default. */
  policyModes: Readonly<Record<string, PolicyMode>>;
}

/** A service reference in another (or the same) namespace. */
export interface ServiceRef {
  service: string;
  namespace: string;
}

/**
 * The delivery seam (see docs/webservice.md). Without it the renderer produces the steady state: the
 * stable Deployment runs the current template and the route sends 100% to stable. The delivery
 * controller passes the rollout it is driving:
 * - `stableTemplate`: the template the stable Deployment keeps while a canary runs (the last promoted one);
 * - `canary`: the canary Deployment `<name>-canary` with its template (from `renderPodTemplate(ws, ctx,
 *   'canary')`) and its replica count;
 * - `weights`: the HTTPRoute backendRef weights of `<name>-stable` and `<name>-canary`.
 */
export interface RolloutRenderInput {
  stableTemplate?: V1PodTemplateSpec;
  canary?: { template: V1PodTemplateSpec; replicas: number };
  weights?: { stable: number; canary: number };
}

/** Everything the renderer needs besides the WebService. */
export interface RenderContext {
  capabilities: Capabilities;
  platform: PlatformConfig;
  /** The team owning the namespace (its `paved.dev/team` label); defaults to the namespace name. */
  team?: string;
  /**
   * WebServices that declare this one as a dependency (found by the reconciler in its cache): the
   * NetworkPolicy admits ingress from exactly these (besides the gateway and monitoring).
   */
  dependents?: readonly ServiceRef[];
  rollout?: RolloutRenderInput;
  /**
   * Requests applied by rightsizing, per container name (the Recommendation's `spec.applied`, read by the
   * reconciler from its cache). They replace the spec's requests in the pod template, so a change rolls
   * out like any other template change; limits follow the usual policy (resources.ts).
   */
  rightsizing?: AppliedRequests;
}

/** Requests per container name, as quantities ("120m", "256Mi"). */
export type AppliedRequests = Readonly<Record<string, Readonly<{ cpu?: string; memory?: string }>>>;

/** Platform defaults, used when a key is not configured. */
export const DEFAULT_PLATFORM: PlatformConfig = Object.freeze({
  gatewayNamespace: 'gateway-system',
  gatewayName: 'paved',
  gatewayHttpsListener: 'https',
  gatewayHttpListener: 'http',
  monitoringNamespace: 'monitoring',
  otelEndpoint: 'http://otel-collector.monitoring.svc:4317',
  dnsNamespace: 'kube-system',
  dnsPodLabels: Object.freeze({ 'k8s-app': 'kube-dns' }),
  allowedRegistries: Object.freeze([]),
  policyModes: Object.freeze({}),
});

/** Parses `name=mode,name=mode` (PAVED_POLICY_MODES). Unknown modes are rejected by the caller's schema. */
export function parsePolicyModes(text: string | undefined): Record<string, PolicyMode> {
  const out: Record<string, PolicyMode> = {};
  for (const part of (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, mode] = part.split('=').map((s) => s.trim());
    if (name && (mode === 'enforce' || mode === 'audit')) out[name] = mode;
  }
  return out;
}

/** The platform config of a running controller. */
export function platformFromConfig(config: PavedConfig): PlatformConfig {
  return {
    ...DEFAULT_PLATFORM,
    gatewayNamespace: config.PAVED_GATEWAY_NAMESPACE,
    monitoringNamespace: config.PAVED_MONITORING_NAMESPACE,
    allowedRegistries: [...config.PAVED_ALLOWED_REGISTRIES],
    ...(config.PAVED_GATEWAY_NAME ? { gatewayName: config.PAVED_GATEWAY_NAME } : {}),
    ...(config.PAVED_INGRESS_CLASS ? { ingressClassName: config.PAVED_INGRESS_CLASS } : {}),
    ...(config.PAVED_CLUSTER_ISSUER ? { clusterIssuer: config.PAVED_CLUSTER_ISSUER } : {}),
    otelEndpoint:
      config.PAVED_OTEL_ENDPOINT ?? `http://otel-collector.${config.PAVED_MONITORING_NAMESPACE}.svc:4317`,
    policyModes: parsePolicyModes(config.PAVED_POLICY_MODES),
  };
}
