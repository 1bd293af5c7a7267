/**
 * The pod template and the Deployments. Every pod is hardened by default: non-root with a non-zero UID,
 * seccomp RuntimeDefault, read-only root filesystem with a writable emptyDir on /tmp, no privilege
 * escalation, all capabilities dropped, no service-account token unless asked, requests and limits
 * always set, spread over zones and nodes.
 *
 * `replicas` is left out of the stable Deployment when an HPA scales it: the HPA owns that field, and
 * if paved applied it too every reconcile would undo the autoscaler.
 */
import type {
  V1Container,
  V1ContainerPort,
  V1Deployment,
  V1EnvFromSource,
  V1EnvVar,
  V1PodTemplateSpec,
  V1Probe,
  V1TopologySpreadConstraint,
} from '@kubernetes/client-node';
import { shortHash } from './hash.js';
import {
  ANNOTATION_CONFIG_HASH,
  LABEL_TRACK,
  commonLabels,
  imageVersion,
  objectMeta,
  trackSelector,
  type Identity,
  type Track,
} from './labels.js';
import { renderResources } from './resources.js';
import { RUNTIMES } from './runtime.js';
import type { RenderContext } from './context.js';
import type { NormalizedSpec, WebService } from './spec.js';

/** The container's name in every pod (patches target it by this name). */
export const APP_CONTAINER = 'app';

/** The port the app listens on (spec, else the runtime's default). */
export function appPort(spec: NormalizedSpec): number {
  return spec.port ?? RUNTIMES[spec.runtime].port;
}

/** The metrics port when it is separate from the app port. */
export function separateMetricsPort(spec: NormalizedSpec): number | undefined {
  const m = spec.observability.metrics;
  return m.enabled && m.port !== undefined && m.port !== appPort(spec) ? m.port : undefined;
}

/** True when an HPA scales the stable Deployment (so the Deployment must not set replicas). */
export function hasAutoscaler(spec: NormalizedSpec): boolean {
  return spec.scaling.maxReplicas > spec.scaling.minReplicas;
}

/**
 * The name of the ConfigMap holding one revision of `spec.config`: `<name>-config-<hash of the data>`.
 * A config change is a new ConfigMap (immutable), so the stable track keeps reading the stable
 * revision's while the canary reads the new one, and a rollback really goes back to the old config.
 */
export function configMapName(name: string, config: Readonly<Record<string, string>>): string {
  return `${name}-config-${shortHash(config)}`;
}

function probe(spec: NormalizedSpec, path: string | undefined, kind: 'liveness' | 'readiness' | 'startup'): V1Probe {
  const hc = spec.overrides?.healthChecks;
  const action = path ? { httpGet: { path, port: 'http' } } : { tcpSocket: { port: 'http' } };
  const base: V1Probe = { ...action, periodSeconds: hc?.periodSeconds ?? 10, timeoutSeconds: 2 };
  if (kind === 'startup') return { ...base, periodSeconds: 5, failureThreshold: 60 };
  if (kind === 'liveness') {
    return { ...base, failureThreshold: 3, ...(hc?.initialDelaySeconds ? { initialDelaySeconds: hc.initialDelaySeconds } : {}) };
  }
  return { ...base, failureThreshold: 2 };
}

function tracingEnv(id: Identity, ctx: RenderContext): V1EnvVar[] {
  return [
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'OTEL_SERVICE_NAME', value: id.name },
    { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: ctx.platform.otelEndpoint },
    {
      name: 'OTEL_RESOURCE_ATTRIBUTES',
      value: `service.namespace=${id.namespace},k8s.namespace.name=${id.namespace},k8s.pod.name=$(POD_NAME),paved.team=${id.team}`,
    },
    { name: 'OTEL_TRACES_SAMPLER', value: 'parentbased_traceidratio' },
    { name: 'OTEL_TRACES_SAMPLER_ARG', value: '0.1' },
  ];
}

/** Environment: runtime conventions, then tracing, then the configured tier's env (which wins by name). */
function renderEnv(id: Identity, spec: NormalizedSpec, ctx: RenderContext): V1EnvVar[] {
  const byName = new Map<string, V1EnvVar>();
  const put = (e: V1EnvVar): void => void byName.set(e.name, e);
  RUNTIMES[spec.runtime].env.forEach(put);
  if (spec.observability.tracing) tracingEnv(id, ctx).forEach(put);
  for (const e of spec.overrides?.env ?? []) {
    if (e.secretKeyRef) put({ name: e.name, valueFrom: { secretKeyRef: { name: e.secretKeyRef.name, key: e.secretKeyRef.key } } });
    else if (e.configMapKeyRef) {
      put({ name: e.name, valueFrom: { configMapKeyRef: { name: e.configMapKeyRef.name, key: e.configMapKeyRef.key } } });
    } else put({ name: e.name, value: e.value ?? '' });
  }
  return [...byName.values()];
}

function renderPorts(spec: NormalizedSpec): V1ContainerPort[] {
  const ports: V1ContainerPort[] = [{ name: 'http', containerPort: appPort(spec), protocol: 'TCP' }];
  const metrics = separateMetricsPort(spec);
  if (metrics !== undefined) ports.push({ name: 'metrics', containerPort: metrics, protocol: 'TCP' });
  return ports;
}

/** The app container's requests and limits: the spec's, with rightsizing's applied requests when any. */
const containerResources = (spec: NormalizedSpec, ctx: RenderContext) => renderResources(spec.tier, spec.overrides?.resources, ctx.rightsizing?.[APP_CONTAINER]);

function renderContainer(id: Identity, spec: NormalizedSpec, ctx: RenderContext): V1Container {
  const rt = RUNTIMES[spec.runtime];
  const hc = spec.overrides?.healthChecks;
  const liveness = hc?.livenessPath ?? rt.livenessPath;
  const readiness = hc?.readinessPath ?? rt.readinessPath;
  const startup = hc?.startupPath ?? (rt.startupProbe ? liveness : undefined);
  const envFrom: V1EnvFromSource[] = spec.config ? [{ configMapRef: { name: configMapName(id.name, spec.config) } }] : [];
  const ov = spec.overrides;
  const env = renderEnv(id, spec, ctx);
  return {
    name: APP_CONTAINER,
    image: spec.image,
    imagePullPolicy: 'IfNotPresent',
    ...(ov?.command?.length ? { command: [...ov.command] } : {}),
    ...(ov?.args?.length ? { args: [...ov.args] } : {}),
    ports: renderPorts(spec),
    // Empty lists are omitted: the API server drops them, and a list paved sends but the live object
    // lacks would make every reconcile re-apply (never a steady state).
    ...(env.length ? { env } : {}),
    ...(envFrom.length ? { envFrom } : {}),
    resources: containerResources(spec, ctx),
    ...(startup ? { startupProbe: probe(spec, startup, 'startup') } : {}),
    livenessProbe: probe(spec, liveness, 'liveness'),
    readinessProbe: probe(spec, readiness, 'readiness'),
    // Let endpoints and the gateway stop sending traffic before the process gets SIGTERM.
    lifecycle: { preStop: { sleep: { seconds: 5 } } },
    securityContext: {
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
  };
}

function topologySpread(id: Identity): V1TopologySpreadConstraint[] {
  // ScheduleAnyway: spreading is a preference; a single-zone cluster must still schedule.
  return ['topology.kubernetes.io/zone', 'kubernetes.io/hostname'].map((topologyKey) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: { matchLabels: { 'paved.dev/service': id.name } },
    matchLabelKeys: ['pod-template-hash'],
  }));
}

function podAnnotations(spec: NormalizedSpec, ctx: RenderContext, port: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.overrides?.annotations ?? {})) if (v !== undefined) out[k] = v;
  if (spec.config) out[ANNOTATION_CONFIG_HASH] = shortHash(spec.config);
  const m = spec.observability.metrics;
  if (m.enabled && !ctx.capabilities.prometheusOperator) {
    // Without prometheus-operator, the conventional scrape annotations.
    out['prometheus.io/scrape'] = 'true';
    out['prometheus.io/path'] = m.path;
    out['prometheus.io/port'] = String(m.port ?? port);
  }
  return out;
}

/** The pod template of a track (pure). Delivery renders the canary's with `track = 'canary'`. */
export function renderPodTemplateFor(
  id: Identity,
  spec: NormalizedSpec,
  ctx: RenderContext,
  track: Track,
): V1PodTemplateSpec {
  const rt = RUNTIMES[spec.runtime];
  const version = imageVersion(spec.image);
  const annotations = podAnnotations(spec, ctx, appPort(spec));
  const token = spec.overrides?.serviceAccountToken === true;
  return {
    metadata: {
      labels: {
        ...commonLabels(id),
        ...(version ? { 'app.kubernetes.io/version': version } : {}),
        [LABEL_TRACK]: track,
      },
      ...(Object.keys(annotations).length ? { annotations } : {}),
    },
    spec: {
      serviceAccountName: id.name,
      automountServiceAccountToken: token,
      enableServiceLinks: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: rt.uid,
        runAsGroup: rt.uid,
        fsGroup: rt.uid,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      terminationGracePeriodSeconds: 30,
      topologySpreadConstraints: topologySpread(id),
      containers: [renderContainer(id, spec, ctx)],
      volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '256Mi' } }],
    },
  };
}

/**
 * Pod-template annotation carrying the revision (the hash of the final template). The live template
 * carries API-server defaults, so hashing it again would not give the same value: the stamp does.
 */
export const REVISION_ANNOTATION = 'paved.dev/revision';

/** Adds the revision stamp to a pod template (a copy). */
export function stampRevision(template: V1PodTemplateSpec, revision: string): V1PodTemplateSpec {
  return {
    ...template,
    metadata: { ...template.metadata, annotations: { ...(template.metadata?.annotations ?? {}), [REVISION_ANNOTATION]: revision } },
  };
}

/** The revision of a pod template: a hash of everything but the track label (same code, same revision). */
export function podTemplateRevision(template: V1PodTemplateSpec): string {
  const labels = { ...(template.metadata?.labels ?? {}) };
  delete labels[LABEL_TRACK];
  return shortHash({ ...template, metadata: { ...template.metadata, labels } });
}

/** A Deployment running one track. `replicas` undefined leaves the field to the HPA. */
export function renderDeployment(
  ws: WebService,
  id: Identity,
  spec: NormalizedSpec,
  track: Track,
  template: V1PodTemplateSpec,
  replicas: number | undefined,
): V1Deployment {
  const name = track === 'stable' ? id.name : `${id.name}-canary`;
  const version = imageVersion(spec.image);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: objectMeta(id, ws, name, {
      ...(version ? { 'app.kubernetes.io/version': version } : {}),
      [LABEL_TRACK]: track,
    }),
    spec: {
      ...(replicas !== undefined ? { replicas } : {}),
      revisionHistoryLimit: 5,
      progressDeadlineSeconds: spec.delivery.progressDeadlineSeconds,
      selector: { matchLabels: trackSelector(id, track) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
      template,
    },
  };
}
