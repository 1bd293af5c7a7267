/**
 * The platform's rules for everything paved applies into a team namespace: the rendered objects and the
 * escape hatch's output alike. Pod-level rules look at every pod spec of every workload kind and at every
 * container (init and ephemeral included). Each rule names the field it objects to.
 */
import { REQUIRED_LABELS } from '../render/labels.js';
import { podLocations, type PodLocation, type RenderedObject } from '../render/workloads.js';
import { RESTRICTED_RULES } from './restricted-rules.js';
import type { AdmissionRule, Finding, PolicyContext, PolicyRule } from './types.js';

type Obj = Record<string, unknown>;

interface ContainerAt {
  path: string;
  c: Obj;
  kind: 'containers' | 'initContainers' | 'ephemeralContainers';
}

function containersOf(pod: PodLocation): ContainerAt[] {
  const out: ContainerAt[] = [];
  for (const kind of ['containers', 'initContainers', 'ephemeralContainers'] as const) {
    const list = pod.spec[kind];
    if (!Array.isArray(list)) continue;
    list.forEach((c: unknown, i) => {
      if (c && typeof c === 'object') out.push({ path: `${pod.path}.${kind}[${i}]`, c: c as Obj, kind });
    });
  }
  return out;
}

function sc(o: Obj | undefined): Obj {
  const v = o?.['securityContext'];
  return v && typeof v === 'object' ? (v as Obj) : {};
}

/** A rule over every container of every pod spec. */
function perContainer(
  fn: (ct: ContainerAt, pod: PodLocation) => Finding | Finding[] | undefined,
): (obj: RenderedObject) => Finding[] {
  return (obj) =>
    podLocations(obj).flatMap((pod) => containersOf(pod).flatMap((ct) => [fn(ct, pod) ?? []].flat()));
}

/** A rule over every pod spec. */
function perPod(fn: (pod: PodLocation) => Finding[]): (obj: RenderedObject) => Finding[] {
  return (obj) => podLocations(obj).flatMap(fn);
}

const all = (expr: string): string => `variables.containers.all(c, ${expr})`;
const hasSc = (field: string): string => `has(c.securityContext) && has(c.securityContext.${field})`;
const podSc = (field: string): string =>
  `has(variables.podSpec.securityContext) && has(variables.podSpec.securityContext.${field})`;

/** The image's tag, or undefined when it has none; digest references return '@digest'. */
export function imageTag(image: string): string | undefined {
  if (/@sha256:[a-f0-9]{64}$/.test(image)) return '@digest';
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  return colon < 0 ? undefined : image.slice(colon + 1);
}

/** True when `image` comes from one of the allowed registries (entries are host or host/path prefixes). */
export function isAllowedImage(image: string, allowed: readonly string[]): boolean {
  if (!allowed.length) return true;
  const first = image.split('/')[0] ?? '';
  const hasRegistry = image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  const full = hasRegistry ? image : `docker.io/${image.includes('/') ? image : `library/${image}`}`;
  return allowed.some((prefix) => {
    const p = prefix.replace(/\/+$/, '');
    return full === p || full.startsWith(`${p}/`) || full.startsWith(`${p}:`) || full.startsWith(`${p}@`);
  });
}

/** Kinds paved may apply for a WebService (rendered ones and what extra manifests may add). */
export const ALLOWED_KINDS: ReadonlySet<string> = new Set([
  'ServiceAccount',
  'ConfigMap',
  'Secret',
  'Deployment',
  'Service',
  'HorizontalPodAutoscaler',
  'PodDisruptionBudget',
  'NetworkPolicy',
  'HTTPRoute',
  'GRPCRoute',
  'Ingress',
  'ServiceMonitor',
  'PodMonitor',
  'PrometheusRule',
  'Job',
  'CronJob',
  'PersistentVolumeClaim',
]);

const noPrivileged: PolicyRule = {
  name: 'no-privileged',
  description: 'Containers must not run privileged.',
  defaultMode: 'enforce',
  check: perContainer(({ path, c }) =>
    sc(c)['privileged'] === true
      ? { field: `${path}.securityContext.privileged`, message: 'privileged containers are not allowed' }
      : undefined,
  ),
  admission: [
    {
      expression: all(`!(${hasSc('privileged')}) || c.securityContext.privileged == false`),
      message: 'privileged containers are not allowed (securityContext.privileged)',
    },
  ],
};

const noPrivilegeEscalation: PolicyRule = {
  name: 'no-privilege-escalation',
  description: 'Containers must set allowPrivilegeEscalation: false.',
  defaultMode: 'enforce',
  check: perContainer(({ path, c }) =>
    sc(c)['allowPrivilegeEscalation'] === false
      ? undefined
      : { field: `${path}.securityContext.allowPrivilegeEscalation`, message: 'must be false' },
  ),
  admission: [
    {
      expression: all(`${hasSc('allowPrivilegeEscalation')} && c.securityContext.allowPrivilegeEscalation == false`),
      message: 'containers must set securityContext.allowPrivilegeEscalation: false',
    },
  ],
};

const HOST_NAMESPACES = ['hostNetwork', 'hostPID', 'hostIPC'] as const;

const noHostNamespaces: PolicyRule = {
  name: 'no-host-namespaces',
  description: "Pods must not share the node's network, PID or IPC namespace.",
  defaultMode: 'enforce',
  check: perPod((pod) =>
    HOST_NAMESPACES.filter((k) => pod.spec[k] === true)
      .map((k) => ({ field: `${pod.path}.${k}`, message: 'host namespaces are not allowed' })),
  ),
  admission: [
    {
      expression: HOST_NAMESPACES.map((k) => `!(has(variables.podSpec.${k}) && variables.podSpec.${k})`)
        .join(' && '),
      message: 'host namespaces are not allowed (hostNetwork, hostPID, hostIPC)',
    },
  ],
};

const noHostPath: PolicyRule = {
  name: 'no-host-path',
  description: 'Pods must not mount hostPath volumes.',
  defaultMode: 'enforce',
  check: perPod((pod) => {
    const volumes = Array.isArray(pod.spec['volumes']) ? (pod.spec['volumes'] as Obj[]) : [];
    return volumes.flatMap((v, i) =>
      v && typeof v === 'object' && 'hostPath' in v
        ? [{ field: `${pod.path}.volumes[${i}].hostPath`, message: 'hostPath volumes are not allowed' }]
        : [],
    );
  }),
  admission: [
    {
      expression: '!has(variables.podSpec.volumes) || variables.podSpec.volumes.all(v, !has(v.hostPath))',
      message: 'hostPath volumes are not allowed',
    },
  ],
};

const noHostPorts: PolicyRule = {
  name: 'no-host-ports',
  description: 'Containers must not bind host ports.',
  defaultMode: 'enforce',
  check: perContainer(({ path, c }) => {
    const ports = Array.isArray(c['ports']) ? (c['ports'] as Obj[]) : [];
    return ports.flatMap((p, i) =>
      typeof p?.['hostPort'] === 'number' && p['hostPort'] !== 0
        ? [{ field: `${path}.ports[${i}].hostPort`, message: 'host ports are not allowed' }]
        : [],
    );
  }),
  admission: [
    {
      expression: all('!has(c.ports) || c.ports.all(p, !has(p.hostPort) || p.hostPort == 0)'),
      message: 'host ports are not allowed',
    },
  ],
};

const runAsNonRoot: PolicyRule = {
  name: 'run-as-non-root',
  description: 'Containers must run as a non-root user (runAsNonRoot, and never UID 0).',
  defaultMode: 'enforce',
  check: perContainer(({ path, c }, pod) => {
    const podCtx = sc(pod.spec);
    const nonRoot = sc(c)['runAsNonRoot'] ?? podCtx['runAsNonRoot'];
    const uid = sc(c)['runAsUser'] ?? podCtx['runAsUser'];
    const out: Finding[] = [];
    if (nonRoot !== true) out.push({ field: `${path}.securityContext.runAsNonRoot`, message: 'must be true (here or on the pod)' });
    if (uid === 0) out.push({ field: `${path}.securityContext.runAsUser`, message: 'must not be 0 (root)' });
    return out;
  }),
  admission: [
    {
      expression: all(
        `(${hasSc('runAsNonRoot')}) ? c.securityContext.runAsNonRoot : (${podSc('runAsNonRoot')} && variables.podSpec.securityContext.runAsNonRoot)`,
      ),
      message: 'containers must run with runAsNonRoot: true (on the container or the pod)',
    },
    {
      expression: `!(${podSc('runAsUser')} && variables.podSpec.securityContext.runAsUser == 0) && ${all(
        `!(${hasSc('runAsUser')} && c.securityContext.runAsUser == 0)`,
      )}`,
      message: 'runAsUser must not be 0 (root)',
    },
  ],
};

const dropAllCapabilities: PolicyRule = {
  name: 'drop-all-capabilities',
  description: 'Containers must drop ALL capabilities and add none but NET_BIND_SERVICE.',
  defaultMode: 'enforce',
  check: perContainer(({ path, c }) => {
    const caps = (sc(c)['capabilities'] ?? {}) as Obj;
    const drop = Array.isArray(caps['drop']) ? (caps['drop'] as unknown[]) : [];
    const add = Array.isArray(caps['add']) ? (caps['add'] as unknown[]) : [];
    const out: Finding[] = [];
    if (!drop.includes('ALL')) out.push({ field: `${path}.securityContext.capabilities.drop`, message: 'must include ALL' });
    add.forEach((cap, i) => {
      if (cap !== 'NET_BIND_SERVICE') {
        out.push({ field: `${path}.securityContext.capabilities.add[${i}]`, message: `capability ${String(cap)} is not allowed` });
      }
    });
    return out;
  }),
  admission: [
    {
      expression: all(
        `${hasSc('capabilities')} && has(c.securityContext.capabilities.drop) && c.securityContext.capabilities.drop.exists(d, d == 'ALL')`,
      ),
      message: 'containers must drop ALL capabilities (securityContext.capabilities.drop)',
    },
    {
      expression: all(
        `!(${hasSc('capabilities')}) || !has(c.securityContext.capabilities.add) || c.securityContext.capabilities.add.all(a, a == 'NET_BIND_SERVICE')`,
      ),
      message: 'containers may add no capability but NET_BIND_SERVICE',
    },
  ],
};

const SECCOMP_OK = ['RuntimeDefault', 'Localhost'];

const seccompRuntimeDefault: PolicyRule = {
  name: 'seccomp-runtime-default',
  description: 'Pods must use the RuntimeDefault (or a Localhost) seccomp profile.',
  defaultMode: 'enforce',
  check: perContainer(({ path, c }, pod) => {
    const own = (sc(c)['seccompProfile'] as Obj | undefined)?.['type'];
    const inherited = (sc(pod.spec)['seccompProfile'] as Obj | undefined)?.['type'];
    const effective = own ?? inherited;
    return SECCOMP_OK.includes(String(effective))
      ? undefined
      : {
          field: own !== undefined ? `${path}.securityContext.seccompProfile.type` : `${pod.path}.securityContext.seccompProfile.type`,
          message: 'must be RuntimeDefault or Localhost',
        };
  }),
  admission: [
    {
      expression: all(
        `(${hasSc('seccompProfile')}) ? c.securityContext.seccompProfile.type in ['RuntimeDefault', 'Localhost'] : (${podSc('seccompProfile')} && variables.podSpec.securityContext.seccompProfile.type in ['RuntimeDefault', 'Localhost'])`,
      ),
      message: 'pods must use the RuntimeDefault or a Localhost seccomp profile',
    },
  ],
};

const readOnlyRootFilesystem: PolicyRule = {
  name: 'read-only-root-filesystem',
  description: 'Containers must have a read-only root filesystem (write to an emptyDir instead).',
  defaultMode: 'enforce',
  check: perContainer(({ path, c, kind }) =>
    kind === 'ephemeralContainers' || sc(c)['readOnlyRootFilesystem'] === true
      ? undefined
      : { field: `${path}.securityContext.readOnlyRootFilesystem`, message: 'must be true' },
  ),
  admission: [
    {
      expression:
        "variables.regularContainers.all(c, has(c.securityContext) && has(c.securityContext.readOnlyRootFilesystem) && c.securityContext.readOnlyRootFilesystem)",
      message: 'containers must set securityContext.readOnlyRootFilesystem: true',
    },
  ],
};

const resourceLimits: PolicyRule = {
  name: 'resource-limits',
  description: 'Containers must set CPU and memory requests and limits.',
  defaultMode: 'enforce',
  check: perContainer(({ path, c, kind }) => {
    if (kind === 'ephemeralContainers') return undefined; // the API forbids resources on them
    const res = (c['resources'] ?? {}) as Obj;
    const out: Finding[] = [];
    for (const section of ['requests', 'limits'] as const) {
      const values = (res[section] ?? {}) as Obj;
      for (const r of ['cpu', 'memory']) {
        if (values[r] === undefined || values[r] === '') {
          out.push({ field: `${path}.resources.${section}.${r}`, message: `${section}.${r} must be set` });
        }
      }
    }
    return out;
  }),
  admission: [
    {
      expression:
        "variables.regularContainers.all(c, has(c.resources) && has(c.resources.limits) && 'cpu' in c.resources.limits && 'memory' in c.resources.limits)",
      message: 'containers must set resources.limits.cpu and resources.limits.memory',
    },
  ],
};

const noLatestTag: PolicyRule = {
  name: 'no-latest-tag',
  description: 'Images must be pinned by a tag other than latest, or by digest.',
  defaultMode: 'enforce',
  check: perContainer(({ path, c }) => {
    const image = typeof c['image'] === 'string' ? c['image'] : '';
    const tag = imageTag(image);
    if (tag === undefined) return { field: `${path}.image`, message: `image "${image}" has no tag (implicitly latest)` };
    if (tag === 'latest') return { field: `${path}.image`, message: `image "${image}" uses the latest tag` };
    return undefined;
  }),
  admission: [
    {
      expression: all(
        "c.image.matches('@sha256:[a-f0-9]{64}$') || (c.image.matches(':[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$') && !c.image.endsWith(':latest'))",
      ),
      message: 'images must be pinned by a tag other than latest, or by digest',
    },
  ],
};

const allowedRegistries: PolicyRule = {
  name: 'allowed-registries',
  description: 'Images must come from an allowed registry (PAVED_ALLOWED_REGISTRIES).',
  defaultMode: 'enforce',
  check: (obj, ctx) =>
    perContainer(({ path, c }) => {
      const image = typeof c['image'] === 'string' ? c['image'] : '';
      return isAllowedImage(image, ctx.allowedRegistries)
        ? undefined
        : { field: `${path}.image`, message: `image "${image}" is not from an allowed registry (${ctx.allowedRegistries.join(', ')})` };
    })(obj),
};

const requiredLabels: PolicyRule = {
  name: 'required-labels',
  description: 'Objects and pod templates carry the attribution labels (app.kubernetes.io/name, managed-by, paved.dev/team, paved.dev/service).',
  defaultMode: 'enforce',
  check: (obj) => {
    const missing = (labels: unknown, path: string): Finding[] =>
      REQUIRED_LABELS.filter((k) => !(labels && typeof labels === 'object' && typeof (labels as Obj)[k] === 'string')).map((k) => ({
        field: `${path}.labels["${k}"]`,
        message: `label ${k} is required`,
      }));
    const pods = podLocations(obj).filter((p) => p.metadataPath !== 'metadata');
    return [...missing(obj.metadata?.labels, 'metadata'), ...pods.flatMap((p) => missing(p.metadata?.['labels'], p.metadataPath))];
  },
  // At admission the attribution labels are what matter (objects made with kubectl are not managed by paved).
  admission: [
    {
      expression:
        "has(variables.podMeta.labels) && ['paved.dev/team', 'app.kubernetes.io/name'].all(k, k in variables.podMeta.labels)",
      message: 'pods must carry the labels paved.dev/team and app.kubernetes.io/name (cost attribution)',
    },
  ],
};

const sameNamespace: PolicyRule = {
  name: 'same-namespace',
  description: "Every object lives in the WebService's namespace.",
  defaultMode: 'enforce',
  check: (obj, ctx) =>
    obj.metadata?.namespace === ctx.namespace
      ? []
      : [{ field: 'metadata.namespace', message: `must be ${ctx.namespace} (got ${String(obj.metadata?.namespace)})` }],
};

const allowedKinds: PolicyRule = {
  name: 'allowed-kinds',
  description: 'Only namespaced application kinds may be applied (no RBAC, no cluster-scoped objects, no bare Pods).',
  defaultMode: 'enforce',
  check: (obj) =>
    ALLOWED_KINDS.has(obj.kind) ? [] : [{ field: 'kind', message: `kind ${obj.kind} is not allowed for a WebService` }],
};

/** Every rule, in evaluation order. */
export const POLICY_RULES: readonly PolicyRule[] = Object.freeze([
  noPrivileged,
  noPrivilegeEscalation,
  noHostNamespaces,
  noHostPath,
  noHostPorts,
  runAsNonRoot,
  dropAllCapabilities,
  seccompRuntimeDefault,
  readOnlyRootFilesystem,
  resourceLimits,
  noLatestTag,
  allowedRegistries,
  requiredLabels,
  sameNamespace,
  allowedKinds,
  ...RESTRICTED_RULES,
]);

export type { AdmissionRule, PolicyContext };
