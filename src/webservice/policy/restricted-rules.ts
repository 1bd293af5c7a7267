/**
 * The rest of the Pod Security Standards "restricted" profile (the rules.ts ones cover privileged,
 * privilege escalation, host namespaces/paths/ports, non-root, capabilities, seccomp), plus the
 * cross-tenant escapes the escape hatch could otherwise reach: Service externalIPs (CVE-2020-8554),
 * node-critical priority classes, running as the tenancy's `paved-deployer` identity and egress to
 * the whole internet. Checked by the controller on every rendered object; the pod-level ones are also
 * enforced by the API server itself through the namespaces' Pod Security Admission labels (tenancy).
 * See https://kubernetes.io/docs/concepts/security/pod-security-standards/
 */
import { TenancyNames } from '../../tenancy/render.js';
import type { PodLocation, RenderedObject } from '../render/workloads.js';
import { podLocations } from '../render/workloads.js';
import type { Finding, PolicyRule } from './types.js';

type Obj = Record<string, unknown>;

const obj = (v: unknown): Obj | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The pod's and every container's securityContext, with their paths. */
function securityContexts(pod: PodLocation): Array<{ path: string; sc: Obj; container: boolean }> {
  const out: Array<{ path: string; sc: Obj; container: boolean }> = [];
  const podSc = obj(pod.spec['securityContext']);
  if (podSc) out.push({ path: `${pod.path}.securityContext`, sc: podSc, container: false });
  for (const kind of ['containers', 'initContainers', 'ephemeralContainers'] as const) {
    list(pod.spec[kind]).forEach((c, i) => {
      const sc = obj(obj(c)?.['securityContext']);
      if (sc) out.push({ path: `${pod.path}.${kind}[${i}].securityContext`, sc, container: true });
    });
  }
  return out;
}

function perPod(fn: (pod: PodLocation) => Finding[]): (o: RenderedObject) => Finding[] {
  return (o) => podLocations(o).flatMap(fn);
}

/** Volume types the restricted profile allows. */
export const RESTRICTED_VOLUME_TYPES: ReadonlySet<string> = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

const restrictedVolumes: PolicyRule = {
  name: 'restricted-volume-types',
  description: 'Pods may only use the volume types of the restricted profile (configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret).',
  defaultMode: 'enforce',
  check: perPod((pod) =>
    list(pod.spec['volumes']).flatMap((v, i) => {
      const types = Object.keys(obj(v) ?? {}).filter((k) => k !== 'name');
      return types
        .filter((t) => !RESTRICTED_VOLUME_TYPES.has(t))
        .map((t) => ({ field: `${pod.path}.volumes[${i}].${t}`, message: `volume type ${t} is not allowed` }));
    }),
  ),
};

/** SELinux types the restricted (and baseline) profile allows. */
export const ALLOWED_SELINUX_TYPES: ReadonlySet<string> = new Set(['container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);

const selinux: PolicyRule = {
  name: 'restricted-selinux',
  description: 'SELinux options may only pick a container type (no custom user or role, no spc_t).',
  defaultMode: 'enforce',
  check: perPod((pod) =>
    securityContexts(pod).flatMap(({ path, sc }) => {
      const se = obj(sc['seLinuxOptions']);
      if (!se) return [];
      const out: Finding[] = [];
      const raw = se['type'];
      const type = typeof raw === 'string' ? raw : JSON.stringify(raw);
      if (raw !== undefined && raw !== '' && !ALLOWED_SELINUX_TYPES.has(type)) {
        out.push({ field: `${path}.seLinuxOptions.type`, message: `SELinux type ${type} is not allowed (use one of ${[...ALLOWED_SELINUX_TYPES].join(', ')})` });
      }
      for (const f of ['user', 'role'] as const) {
        if (se[f] !== undefined && se[f] !== '') out.push({ field: `${path}.seLinuxOptions.${f}`, message: `a custom SELinux ${f} is not allowed` });
      }
      return out;
    }),
  ),
};

const APPARMOR_ANNOTATION = 'container.apparmor.security.beta.kubernetes.io/';

const appArmor: PolicyRule = {
  name: 'restricted-apparmor',
  description: 'AppArmor may not be Unconfined (field or annotation).',
  defaultMode: 'enforce',
  check: perPod((pod) => {
    const out: Finding[] = securityContexts(pod)
      .filter(({ sc }) => obj(sc['appArmorProfile'])?.['type'] === 'Unconfined')
      .map(({ path }) => ({ field: `${path}.appArmorProfile.type`, message: 'AppArmor profile Unconfined is not allowed' }));
    const annotations = obj(pod.metadata?.['annotations']) ?? {};
    for (const [k, v] of Object.entries(annotations)) {
      if (k.startsWith(APPARMOR_ANNOTATION) && v === 'unconfined') {
        out.push({ field: `${pod.metadataPath}.annotations["${k}"]`, message: 'AppArmor profile unconfined is not allowed' });
      }
    }
    return out;
  }),
};

/** The sysctls the Pod Security Standards call safe (namespaced, no effect outside the pod). */
export const SAFE_SYSCTLS: ReadonlySet<string> = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);

const sysctls: PolicyRule = {
  name: 'safe-sysctls',
  description: 'Pods may set only the safe sysctls.',
  defaultMode: 'enforce',
  check: perPod((pod) =>
    list(obj(pod.spec['securityContext'])?.['sysctls']).flatMap((s, i) => {
      const raw = obj(s)?.['name'];
      const name = typeof raw === 'string' ? raw : JSON.stringify(raw ?? '');
      return SAFE_SYSCTLS.has(name) ? [] : [{ field: `${pod.path}.securityContext.sysctls[${i}].name`, message: `sysctl ${name} is not in the safe set` }];
    }),
  ),
};

const procMountAndHostProcess: PolicyRule = {
  name: 'restricted-proc-mount-and-host-process',
  description: 'procMount must be Default and Windows HostProcess is not allowed (UID 0 is run-as-non-root).',
  defaultMode: 'enforce',
  check: perPod((pod) =>
    securityContexts(pod).flatMap(({ path, sc }) => {
      const out: Finding[] = [];
      if (sc['procMount'] !== undefined && sc['procMount'] !== 'Default') out.push({ field: `${path}.procMount`, message: 'must be Default' });
      if (obj(sc['windowsOptions'])?.['hostProcess'] === true) out.push({ field: `${path}.windowsOptions.hostProcess`, message: 'HostProcess containers are not allowed' });
      return out;
    }),
  ),
};

/** Priority classes reserved for the cluster's own components. */
export const RESERVED_PRIORITY_CLASSES: ReadonlySet<string> = new Set(['system-node-critical', 'system-cluster-critical']);

const priorityClass: PolicyRule = {
  name: 'no-system-priority-class',
  description: 'Pods may not use the system-node-critical or system-cluster-critical priority classes (they would evict other teams).',
  defaultMode: 'enforce',
  check: perPod((pod) => {
    const p = pod.spec['priorityClassName'];
    return typeof p === 'string' && RESERVED_PRIORITY_CLASSES.has(p)
      ? [{ field: `${pod.path}.priorityClassName`, message: `priority class ${p} is reserved for cluster components` }]
      : [];
  }),
};

/** The tenancy's deployer identity (src/tenancy/render.ts TenancyNames.deployer). */
export const DEPLOYER_SERVICE_ACCOUNT_NAME = 'paved-deployer';

const deployerIdentity: PolicyRule = {
  name: 'no-deployer-identity',
  description: 'Pods may not run as the paved-deployer ServiceAccount (it may write the namespace).',
  defaultMode: 'enforce',
  check: perPod((pod) =>
    [pod.spec['serviceAccountName'], pod.spec['serviceAccount']].some((n) => n === DEPLOYER_SERVICE_ACCOUNT_NAME)
      ? [{ field: `${pod.path}.serviceAccountName`, message: `${DEPLOYER_SERVICE_ACCOUNT_NAME} is paved's deployer identity; pods may not run as it` }]
      : [],
  ),
};

const externalIps: PolicyRule = {
  name: 'no-external-ips',
  description: 'Services may not set externalIPs (CVE-2020-8554: intercepting traffic to any IP).',
  defaultMode: 'enforce',
  check: (o) =>
    o.kind === 'Service' && list(obj((o as Obj)['spec'])?.['externalIPs']).length > 0
      ? [{ field: 'spec.externalIPs', message: 'externalIPs are not allowed (CVE-2020-8554)' }]
      : [],
};

const UNRESTRICTED = new Set(['0.0.0.0/0', '::/0']);

const unrestrictedEgress: PolicyRule = {
  name: 'no-unrestricted-egress',
  description: 'NetworkPolicies may not allow egress to everywhere (an empty `to`, or 0.0.0.0/0 or ::/0).',
  defaultMode: 'enforce',
  check: (o) => {
    if (o.kind !== 'NetworkPolicy') return [];
    return list(obj((o as Obj)['spec'])?.['egress']).flatMap((rule, i) => {
      const to = obj(rule)?.['to'];
      if (to === undefined || list(to).length === 0) return [{ field: `spec.egress[${i}].to`, message: 'an egress rule without destinations allows everywhere' }];
      return list(to).flatMap((peer, j) => {
        const cidr = obj(obj(peer)?.['ipBlock'])?.['cidr'];
        return typeof cidr === 'string' && UNRESTRICTED.has(cidr) ? [{ field: `spec.egress[${i}].to[${j}].ipBlock.cidr`, message: `egress to ${cidr} is not allowed` }] : [];
      });
    });
  },
};

/** `Kind/name` of the objects the tenancy controller owns in every team namespace. */
export const TENANCY_OBJECTS: ReadonlySet<string> = new Set([
  `ServiceAccount/${TenancyNames.deployer}`,
  `ResourceQuota/${TenancyNames.quota}`,
  `LimitRange/${TenancyNames.limits}`,
  `NetworkPolicy/${TenancyNames.denyIngress}`,
  `NetworkPolicy/${TenancyNames.allowSameNamespace}`,
  `NetworkPolicy/${TenancyNames.allowGateway}`,
  `NetworkPolicy/${TenancyNames.allowMonitoring}`,
  `NetworkPolicy/${TenancyNames.allowDnsEgress}`,
  `Role/${TenancyNames.teamRole}`,
  `RoleBinding/${TenancyNames.ownersBinding}`,
  `RoleBinding/${TenancyNames.membersBinding}`,
  `Role/${TenancyNames.deployer}`,
  `RoleBinding/${TenancyNames.deployer}`,
]);

const tenancyObjects: PolicyRule = {
  name: 'no-tenancy-objects',
  description: "A WebService may not apply (through extra manifests or patches) an object the tenancy controller owns, such as the default-deny NetworkPolicy or the paved-deployer ServiceAccount.",
  defaultMode: 'enforce',
  check: (o) => {
    const id = `${o.kind}/${o.metadata?.name ?? ''}`;
    return TENANCY_OBJECTS.has(id) ? [{ field: 'metadata.name', message: `${id} belongs to the tenancy controller; a WebService may not apply it` }] : [];
  },
};

/** True when `host` is `domain` or under it (`*.shop.example.com` is under `example.com`). */
export function isUnderDomain(host: string, domain: string): boolean {
  const h = host.replace(/^\*\./, '').toLowerCase();
  const d = domain.toLowerCase();
  return h === d || h.endsWith(`.${d}`);
}

/** Every host name an object publishes, with its field. */
function publishedHosts(o: RenderedObject): Array<{ field: string; host: string }> {
  const spec = obj((o as Obj)['spec']) ?? {};
  if (o.kind === 'HTTPRoute' || o.kind === 'GRPCRoute' || o.kind === 'TLSRoute') {
    return list(spec['hostnames']).map((h, i) => ({ field: `spec.hostnames[${i}]`, host: String(h) }));
  }
  if (o.kind === 'Ingress') {
    const rules = list(spec['rules']).flatMap((r, i) => (obj(r)?.['host'] !== undefined ? [{ field: `spec.rules[${i}].host`, host: String(obj(r)?.['host']) }] : []));
    const tls = list(spec['tls']).flatMap((t, i) => list(obj(t)?.['hosts']).map((h, j) => ({ field: `spec.tls[${i}].hosts[${j}]`, host: String(h) })));
    return [...rules, ...tls];
  }
  return [];
}

const hostOwnership: PolicyRule = {
  name: 'host-ownership',
  description: "Routes may publish only hosts under the team's declared domains (Team spec.domains) and never a host another team already serves.",
  defaultMode: 'enforce',
  check: (o, ctx) => {
    if (!ctx.hosts) return [];
    const domains = ctx.hosts.domains ?? [];
    return publishedHosts(o).flatMap(({ field, host }) => {
      const out: Finding[] = [];
      if (domains.length && !domains.some((d) => isUnderDomain(host, d))) {
        out.push({ field, message: `host ${host} is outside the team's domains (${domains.join(', ')}; Team spec.domains)` });
      }
      const owner = ctx.hosts?.servedBy?.(host);
      if (owner) out.push({ field, message: `host ${host} is already served by team ${owner}` });
      return out;
    });
  },
};

const foreignObjects: PolicyRule = {
  name: 'no-foreign-objects',
  description: 'A WebService may not apply an object that another controller or another WebService controls (same kind and name already live).',
  defaultMode: 'enforce',
  check: (o, ctx) => {
    const owner = ctx.foreignOwner?.(o);
    return owner ? [{ field: 'metadata.name', message: `${o.kind}/${o.metadata?.name ?? ''} is controlled by ${owner}; a WebService may not apply it` }] : [];
  },
};

/** The rules of this file, in evaluation order. */
export const RESTRICTED_RULES: readonly PolicyRule[] = Object.freeze([
  restrictedVolumes,
  selinux,
  appArmor,
  sysctls,
  procMountAndHostProcess,
  priorityClass,
  deployerIdentity,
  externalIps,
  unrestrictedEgress,
  tenancyObjects,
  foreignObjects,
  hostOwnership,
]);
