/**
 * Team -> tenant (pure): the objects paved applies for each of a Team's namespaces. No I/O, no clock;
 * the same Team and config always give the same objects in the same order with the same names.
 *
 * Each namespace comes in two parts, because of who may write what (docs/tenancy.md):
 * - `bootstrap`: the Namespace and the `paved-deployer` ServiceAccount, Role and RoleBinding. The
 *   controller writes these with its own identity: they must exist before anything can be done as the
 *   deployer, and the deployer must not be able to widen its own rights.
 * - `objects`: everything else (quota, limits, network policies, the team's Role and RoleBindings).
 *   The controller writes these while impersonating the namespace's `paved-deployer`, so a bug or a
 *   hostile spec can never write outside that namespace.
 *
 * The deployer's Role is a superset of the team's Role: Kubernetes RBAC lets a subject grant (through
 * a Role or RoleBinding) only rights it holds itself, so the deployer needs no `escalate` or `bind`.
 */
import type {
  KubernetesObject,
  V1Namespace,
  V1PolicyRule,
  V1ResourceQuota,
  V1Role,
  V1RoleBinding,
  V1ServiceAccount,
  RbacV1Subject,
} from '@kubernetes/client-node';
import { Labels, MANAGED_BY, type Team, type TeamSubjects } from '../api/index.js';
import { teamEnvironments } from './namespaces.js';
import { containerLimits, envelopeOf, quotaHard } from './tiers.js';

/** The platform settings the renderer needs (from src/config.ts). */
export interface TenancyPlatformConfig {
  /** Namespace of the ingress/gateway whose pods may reach team pods. */
  gatewayNamespace: string;
  /** Namespace of the monitoring stack that scrapes team pods. */
  monitoringNamespace: string;
  /** Namespace of cluster DNS (default kube-system). */
  dnsNamespace?: string;
}

/** One of a Team's namespaces with everything paved applies for it. */
export interface TenantNamespace {
  name: string;
  environment: string;
  /** Written by the controller identity, in this order (Namespace first). */
  bootstrap: KubernetesObject[];
  /** Written as `system:serviceaccount:<name>:paved-deployer`, in this order. */
  objects: KubernetesObject[];
}

/** Names of the rendered objects (stable: pruning, tests and admission policies refer to them). */
export const TenancyNames = {
  deployer: 'paved-deployer',
  quota: 'paved-quota',
  limits: 'paved-limits',
  denyIngress: 'paved-default-deny-ingress',
  allowSameNamespace: 'paved-allow-same-namespace',
  allowGateway: 'paved-allow-from-gateway',
  allowMonitoring: 'paved-allow-from-monitoring',
  allowDnsEgress: 'paved-allow-dns-egress',
  teamRole: 'paved-team',
  ownersBinding: 'paved-team-owners',
  membersBinding: 'paved-team-members',
} as const;

/**
 * NetworkPolicy and LimitRange are written as plain JSON: client-node's model classes rename `from`
 * and `default` to `_from` and `_default`, which only its own serializer undoes.
 */
interface NetworkPolicyPeer {
  namespaceSelector?: { matchLabels: Record<string, string> };
  podSelector?: { matchLabels?: Record<string, string> };
}
interface NetworkPolicyObject extends KubernetesObject {
  spec: {
    podSelector: { matchLabels?: Record<string, string> };
    policyTypes: Array<'Ingress' | 'Egress'>;
    ingress?: Array<{ from: NetworkPolicyPeer[] }>;
    egress?: Array<{ to: NetworkPolicyPeer[]; ports?: Array<{ protocol: 'TCP' | 'UDP'; port: number }> }>;
  };
}
interface LimitRangeObject extends KubernetesObject {
  spec: { limits: Array<{ type: 'Container'; max: Record<string, string>; default: Record<string, string>; defaultRequest: Record<string, string> }> };
}

/** The `paved.dev/component` value of everything this module renders. */
export const TENANCY_COMPONENT = 'tenancy';

export { teamEnvironments } from './namespaces.js';

/** Renders every namespace of a Team, sorted by namespace name. */
export function renderTenancy(team: Team, config: TenancyPlatformConfig): TenantNamespace[] {
  const name = team.metadata?.name;
  if (!name) throw new Error('Team has no metadata.name');
  return teamEnvironments(team)
    .map(({ namespace, environment }) => renderNamespace({ team, teamName: name, namespace, environment }, config))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Pod Security Admission labels of every team namespace: the API server itself refuses pods outside
 * the "restricted" profile, even if paved's own checks were bypassed (kubectl with the team's RBAC,
 * another controller). Audit and warn too, so a refusal also shows in the audit log and to kubectl.
 */
export const POD_SECURITY_LABELS: Readonly<Record<string, string>> = Object.freeze({
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
  'pod-security.kubernetes.io/audit': 'restricted',
  'pod-security.kubernetes.io/audit-version': 'latest',
  'pod-security.kubernetes.io/warn': 'restricted',
  'pod-security.kubernetes.io/warn-version': 'latest',
});

/** Namespace annotation with the owning Team's `spec.domains`, comma-separated. */
export const DOMAINS_ANNOTATION = 'paved.dev/domains';

/** The labels on the Namespace itself (attribution, and Pod Security Admission). */
export function namespaceLabels(team: Team, environment: string): Record<string, string> {
  return {
    [Labels.managedBy]: MANAGED_BY,
    [Labels.costCenter]: team.spec.costCenter,
    [Labels.environment]: environment,
    [Labels.team]: team.metadata?.name ?? '',
    ...POD_SECURITY_LABELS,
  };
}

function objectLabels(team: string): Record<string, string> {
  return { [Labels.managedBy]: MANAGED_BY, [Labels.component]: TENANCY_COMPONENT, [Labels.team]: team };
}

function renderNamespace(
  { team, teamName, namespace, environment }: { team: Team; teamName: string; namespace: string; environment: string },
  config: TenancyPlatformConfig,
): TenantNamespace {
  const labels = objectLabels(teamName);
  const meta = (name: string) => ({ name, namespace, labels: { ...labels } });
  const ns: V1Namespace = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: namespace,
      labels: namespaceLabels(team, environment),
      // The WebService controller reads the team's domains here (host ownership): only paved writes it.
      ...(team.spec.domains?.length ? { annotations: { [DOMAINS_ANNOTATION]: [...team.spec.domains].sort().join(',') } } : {}),
    },
  };
  const deployerSa: V1ServiceAccount = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: meta(TenancyNames.deployer),
    // Nothing in the namespace runs as the deployer; the controller impersonates it.
    automountServiceAccountToken: false,
  };
  const deployerRole: V1Role = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: meta(TenancyNames.deployer),
    rules: DEPLOYER_RULES,
  };
  const deployerBinding: V1RoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: meta(TenancyNames.deployer),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: TenancyNames.deployer },
    subjects: [{ kind: 'ServiceAccount', name: TenancyNames.deployer, namespace }],
  };

  const envelope = envelopeOf(team.spec.quota);
  const quota: V1ResourceQuota = {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: meta(TenancyNames.quota),
    spec: { hard: quotaHard(envelope) },
  };
  const limits: LimitRangeObject = {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: meta(TenancyNames.limits),
    spec: { limits: [{ type: 'Container', ...containerLimits(envelope) }] },
  };

  const teamRole: V1Role = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: meta(TenancyNames.teamRole),
    rules: TEAM_RULES,
  };
  const binding = (bindingName: string, who: TeamSubjects | undefined): V1RoleBinding => {
    const subjects = subjectsOf(who);
    return {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(bindingName),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: TenancyNames.teamRole },
      // The API server drops an empty list; rendering one would look like drift on every pass.
      ...(subjects.length > 0 ? { subjects } : {}),
    };
  };

  return {
    name: namespace,
    environment,
    bootstrap: [ns, deployerSa, deployerRole, deployerBinding],
    objects: [
      quota,
      limits,
      ...renderNetworkPolicies(meta, config),
      teamRole,
      binding(TenancyNames.ownersBinding, team.spec.owners),
      binding(TenancyNames.membersBinding, team.spec.members),
    ],
  };
}

/** RBAC subjects of a Team's owners or members: groups then users, each sorted. */
export function subjectsOf(who: TeamSubjects | undefined): RbacV1Subject[] {
  const groups = [...new Set(who?.groups ?? [])].sort();
  const users = [...new Set(who?.users ?? [])].sort();
  return [
    ...groups.map((name) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name })),
    ...users.map((name) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name })),
  ];
}

function namespacePeer(namespace: string): NetworkPolicyPeer {
  return { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } } };
}

/**
 * Ingress is denied by default and opened to the namespace itself, the gateway and monitoring.
 * Egress: the DNS policy selects every pod for egress, so pods may reach DNS and their own namespace
 * and nothing else; a WebService's own policy adds egress to its declared dependencies.
 */
function renderNetworkPolicies(
  meta: (name: string) => { name: string; namespace: string; labels: Record<string, string> },
  config: TenancyPlatformConfig,
): NetworkPolicyObject[] {
  const np = (name: string, spec: NetworkPolicyObject['spec']): NetworkPolicyObject => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(name),
    spec,
  });
  const all = {};
  return [
    np(TenancyNames.denyIngress, { podSelector: all, policyTypes: ['Ingress'] }),
    np(TenancyNames.allowSameNamespace, {
      podSelector: all,
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ podSelector: all }] }],
      egress: [{ to: [{ podSelector: all }] }],
    }),
    np(TenancyNames.allowGateway, {
      podSelector: all,
      policyTypes: ['Ingress'],
      ingress: [{ from: [namespacePeer(config.gatewayNamespace)] }],
    }),
    np(TenancyNames.allowMonitoring, {
      podSelector: all,
      policyTypes: ['Ingress'],
      ingress: [{ from: [namespacePeer(config.monitoringNamespace)] }],
    }),
    np(TenancyNames.allowDnsEgress, {
      podSelector: all,
      policyTypes: ['Egress'],
      egress: [
        {
          to: [namespacePeer(config.dnsNamespace ?? 'kube-system')],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    }),
  ];
}

const READ = ['get', 'list', 'watch'];
const WRITE = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

/**
 * The team's rights in its namespaces: work with WebServices and AnalysisTemplates, read workloads
 * and their logs and events. No Secrets, no exec/attach/port-forward, no ServiceAccount tokens, no
 * RBAC writes, no direct workload writes (those go through WebServices and the policy in paved).
 */
export const TEAM_RULES: V1PolicyRule[] = [
  { apiGroups: ['paved.dev'], resources: ['analysistemplates', 'webservices'], verbs: WRITE },
  { apiGroups: ['paved.dev'], resources: ['recommendations', 'webservices/status'], verbs: READ },
  {
    apiGroups: [''],
    resources: [
      'configmaps',
      'endpoints',
      'events',
      'limitranges',
      'persistentvolumeclaims',
      'pods',
      'pods/log',
      'resourcequotas',
      'serviceaccounts',
      'services',
    ],
    verbs: READ,
  },
  { apiGroups: ['apps'], resources: ['deployments', 'replicasets', 'statefulsets'], verbs: READ },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: READ },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: READ },
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'networkpolicies'], verbs: READ },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: READ },
  { apiGroups: ['gateway.networking.k8s.io'], resources: ['httproutes'], verbs: READ },
  { apiGroups: ['monitoring.coreos.com'], resources: ['servicemonitors'], verbs: READ },
];

/**
 * What the controller may do in a team namespace while impersonating its deployer: apply everything
 * paved renders there (tenancy objects and WebService children) and write WebService status. A superset
 * of TEAM_RULES (see the module header). Still no Secrets and no exec; nothing outside the namespace.
 */
export const DEPLOYER_RULES: V1PolicyRule[] = [
  {
    apiGroups: ['paved.dev'],
    resources: ['analysistemplates', 'analysistemplates/status', 'recommendations', 'webservices', 'webservices/finalizers', 'webservices/status'],
    verbs: WRITE,
  },
  {
    apiGroups: [''],
    resources: ['configmaps', 'limitranges', 'persistentvolumeclaims', 'resourcequotas', 'serviceaccounts', 'services'],
    verbs: WRITE,
  },
  { apiGroups: [''], resources: ['endpoints', 'pods', 'pods/log'], verbs: READ },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'get', 'list', 'patch', 'update', 'watch'] },
  { apiGroups: ['apps'], resources: ['deployments', 'replicasets', 'statefulsets'], verbs: WRITE },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: WRITE },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: WRITE },
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'networkpolicies'], verbs: WRITE },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'get', 'list', 'patch', 'update', 'watch'] },
  { apiGroups: ['gateway.networking.k8s.io'], resources: ['httproutes'], verbs: WRITE },
  { apiGroups: ['monitoring.coreos.com'], resources: ['podmonitors', 'prometheusrules', 'servicemonitors'], verbs: WRITE },
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings', 'roles'], verbs: WRITE },
];
