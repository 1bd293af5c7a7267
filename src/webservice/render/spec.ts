/**
 * The WebService spec with the CRD's defaults applied. The API server applies the same defaults when it
 * stores a WebService; the renderer applies them again so that a spec that never went through the API
 * server (the API's preview, unit tests) renders exactly as the stored one will. A unit test compares
 * these defaults with the `default:` keywords of crds/paved.dev_webservices.yaml, so they cannot drift.
 */
import type { WebService } from '../../api/generated/web-service.js';

export type { WebService };
export type WebServiceSpec = WebService['spec'];
export type Runtime = NonNullable<WebServiceSpec['runtime']>;
export type SizeTier = NonNullable<WebServiceSpec['tier']>;
export type Overrides = NonNullable<WebServiceSpec['overrides']>;
export type Advanced = NonNullable<WebServiceSpec['advanced']>;
export type Dependency = NonNullable<NonNullable<WebServiceSpec['networking']>['dependencies']>[number];
export type DeliveryStep = NonNullable<NonNullable<WebServiceSpec['delivery']>['steps']>[number];

/** A spec whose defaulted fields are all present. */
export interface NormalizedSpec {
  image: string;
  runtime: Runtime;
  port?: number;
  tier: SizeTier;
  config?: Record<string, string>;
  scaling: { minReplicas: number; maxReplicas: number; targetCPUUtilization: number };
  networking: {
    visibility: 'public' | 'private';
    host?: string;
    paths: string[];
    tls: { enabled: boolean; secretName?: string };
    dependencies: Dependency[];
  };
  observability: {
    metrics: { enabled: boolean; path: string; port?: number };
    tracing: boolean;
  };
  delivery: NonNullable<WebServiceSpec['delivery']> & { progressDeadlineSeconds: number; scaleDownDelaySeconds: number };
  overrides?: Overrides;
  advanced?: Advanced;
}

/** The defaults of crds/paved.dev_webservices.yaml, by JSON path under `spec`. */
export const SPEC_DEFAULTS = Object.freeze({
  runtime: 'generic',
  tier: 'small',
  'scaling.minReplicas': 2,
  'scaling.maxReplicas': 5,
  'scaling.targetCPUUtilization': 70,
  'networking.visibility': 'private',
  'networking.paths': ['/'],
  'networking.tls.enabled': true,
  'observability.metrics.enabled': true,
  'observability.metrics.path': '/metrics',
  'observability.tracing': false,
  'delivery.progressDeadlineSeconds': 600,
  'delivery.scaleDownDelaySeconds': 30,
  // Read by src/delivery/spec.ts (normalizeDelivery), not by the renderer.
  'delivery.advanceRule': 'RequireLatestSuccess',
} as const);

function definedEntries<T extends object>(o: T | undefined): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o ?? {})) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

function stringMap(o: Record<string, string | undefined> | undefined): Record<string, string> | undefined {
  if (!o) return undefined;
  const out: Record<string, string> = {};
  for (const k of Object.keys(o).sort()) {
    const v = o[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** The scaling section with its defaults. */
function normalizeScaling(scaling: WebServiceSpec['scaling']): NormalizedSpec['scaling'] {
  return {
    minReplicas: scaling?.minReplicas ?? SPEC_DEFAULTS['scaling.minReplicas'],
    maxReplicas: scaling?.maxReplicas ?? SPEC_DEFAULTS['scaling.maxReplicas'],
    targetCPUUtilization: scaling?.targetCPUUtilization ?? SPEC_DEFAULTS['scaling.targetCPUUtilization'],
  };
}

/** The networking section with its defaults (lists copied). */
function normalizeNetworking(net: NonNullable<WebServiceSpec['networking']>): NormalizedSpec['networking'] {
  return {
    visibility: net.visibility ?? SPEC_DEFAULTS['networking.visibility'],
    ...(net.host !== undefined ? { host: net.host } : {}),
    paths: [...(net.paths ?? SPEC_DEFAULTS['networking.paths'])],
    tls: {
      enabled: net.tls?.enabled ?? SPEC_DEFAULTS['networking.tls.enabled'],
      ...(net.tls?.secretName !== undefined ? { secretName: net.tls.secretName } : {}),
    },
    dependencies: [...(net.dependencies ?? [])],
  };
}

/** The observability section with its defaults. */
function normalizeObservability(obs: NonNullable<WebServiceSpec['observability']>): NormalizedSpec['observability'] {
  return {
    metrics: {
      enabled: obs.metrics?.enabled ?? SPEC_DEFAULTS['observability.metrics.enabled'],
      path: obs.metrics?.path ?? SPEC_DEFAULTS['observability.metrics.path'],
      ...(obs.metrics?.port !== undefined ? { port: obs.metrics.port } : {}),
    },
    tracing: obs.tracing ?? SPEC_DEFAULTS['observability.tracing'],
  };
}

/** The delivery section: what is set, plus the renderer's two defaults (the rest is src/delivery's). */
function normalizeDeliveryDefaults(delivery: WebServiceSpec['delivery']): NormalizedSpec['delivery'] {
  return {
    ...definedEntries(delivery),
    progressDeadlineSeconds: delivery?.progressDeadlineSeconds ?? SPEC_DEFAULTS['delivery.progressDeadlineSeconds'],
    scaleDownDelaySeconds: delivery?.scaleDownDelaySeconds ?? SPEC_DEFAULTS['delivery.scaleDownDelaySeconds'],
  };
}

/** Applies the CRD defaults to a spec (pure; the input is not modified). */
export function normalizeSpec(spec: WebServiceSpec): NormalizedSpec {
  const config = stringMap(spec.config);
  return {
    image: spec.image,
    runtime: spec.runtime ?? SPEC_DEFAULTS.runtime,
    ...(spec.port !== undefined ? { port: spec.port } : {}),
    tier: spec.tier ?? SPEC_DEFAULTS.tier,
    ...(config ? { config } : {}),
    scaling: normalizeScaling(spec.scaling),
    networking: normalizeNetworking(spec.networking ?? {}),
    observability: normalizeObservability(spec.observability ?? {}),
    delivery: normalizeDeliveryDefaults(spec.delivery),
    ...(spec.overrides ? { overrides: spec.overrides } : {}),
    ...(spec.advanced ? { advanced: spec.advanced } : {}),
  };
}

/** True when a value carries information (not undefined, not an empty object or list). */
export function isSet(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.values(value).some(isSet);
  return true;
}

/** The golden-path tier a spec uses: advanced (escape hatch) > configured (overrides) > managed. */
export type GoldenPathTier = 'managed' | 'configured' | 'advanced';

/** Classifies a spec by the most powerful tier it uses. */
export function tierOf(spec: WebServiceSpec): GoldenPathTier {
  if (isSet(spec.advanced)) return 'advanced';
  if (isSet(spec.overrides)) return 'configured';
  return 'managed';
}
