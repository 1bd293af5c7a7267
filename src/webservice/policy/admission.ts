/**
 * The policy rules that CEL can express, as ValidatingAdmissionPolicies (built into the API server, no
 * webhook), so that nobody bypasses paved with kubectl in a team namespace. Generated from POLICY_RULES,
 * so each rule is defined once; deploy/admission/webservice-policies.yaml is this output, and a unit test
 * fails when the file drifts (regenerate with `node --import tsx src/webservice/policy/write-admission.ts`).
 *
 * Three policies per mode, one per pod-spec shape (Pods; workloads with spec.template; CronJobs), because
 * CEL variables are typed by the matched kind. Rules in audit mode go to a separate policy bound with
 * `[Audit, Warn]`, enforced ones with `[Deny]`. Scope: namespaces labelled `paved.dev/team` (tenants).
 */
import { stringify } from 'yaml';
import { modeOf } from './evaluate.js';
import { POLICY_RULES } from './rules.js';
import type { PolicyMode, PolicyRule } from './types.js';

interface Shape {
  suffix: string;
  rules: Array<{ apiGroups: string[]; apiVersions: string[]; resources: string[] }>;
  podSpec: string;
  podMeta: string;
}

const SHAPES: readonly Shape[] = [
  {
    suffix: 'pods',
    rules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
    podSpec: 'object.spec',
    podMeta: 'object.metadata',
  },
  {
    suffix: 'workloads',
    rules: [
      { apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets'] },
      { apiGroups: ['batch'], apiVersions: ['v1'], resources: ['jobs'] },
      { apiGroups: [''], apiVersions: ['v1'], resources: ['replicationcontrollers'] },
    ],
    podSpec: 'object.spec.template.spec',
    podMeta: 'object.spec.template.metadata',
  },
  {
    suffix: 'cronjobs',
    rules: [{ apiGroups: ['batch'], apiVersions: ['v1'], resources: ['cronjobs'] }],
    podSpec: 'object.spec.jobTemplate.spec.template.spec',
    podMeta: 'object.spec.jobTemplate.spec.template.metadata',
  },
];

/** The namespaces the policies guard: tenant namespaces. */
export const DEFAULT_NAMESPACE_SELECTOR = Object.freeze({
  matchExpressions: [{ key: 'paved.dev/team', operator: 'Exists' }],
});

export interface AdmissionOptions {
  /** Prefix of the policy and binding names (tests use a unique one). */
  namePrefix?: string;
  namespaceSelector?: object;
  modes?: Readonly<Record<string, PolicyMode>>;
  rules?: readonly PolicyRule[];
}

type Obj = Record<string, unknown>;

/** The ValidatingAdmissionPolicy and binding objects for the rules (pure). */
export function renderAdmissionPolicies(options: AdmissionOptions = {}): Obj[] {
  const prefix = options.namePrefix ?? 'paved-webservice';
  const nsSelector = options.namespaceSelector ?? DEFAULT_NAMESPACE_SELECTOR;
  const rules = (options.rules ?? POLICY_RULES).filter((r) => r.admission?.length);
  const out: Obj[] = [];
  for (const mode of ['enforce', 'audit'] as const) {
    const selected = rules.filter((r) => modeOf(r, options.modes ?? {}) === mode);
    if (!selected.length) continue;
    for (const shape of SHAPES) {
      const name = `${prefix}-${shape.suffix}${mode === 'audit' ? '-audit' : ''}`;
      out.push({
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicy',
        metadata: { name, labels: { 'app.kubernetes.io/part-of': 'paved' } },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: {
            namespaceSelector: nsSelector,
            resourceRules: shape.rules.map((r) => ({ ...r, operations: ['CREATE', 'UPDATE'] })),
          },
          variables: [
            { name: 'podSpec', expression: shape.podSpec },
            { name: 'podMeta', expression: shape.podMeta },
            {
              name: 'regularContainers',
              expression:
                'variables.podSpec.containers + (has(variables.podSpec.initContainers) ? variables.podSpec.initContainers : [])',
            },
            {
              name: 'containers',
              expression:
                'variables.regularContainers + (has(variables.podSpec.ephemeralContainers) ? variables.podSpec.ephemeralContainers : [])',
            },
          ],
          validations: selected.flatMap((r) =>
            (r.admission ?? []).map((a) => ({ expression: a.expression, message: `${r.name}: ${a.message}`, reason: 'Forbidden' })),
          ),
        },
      });
      out.push({
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicyBinding',
        metadata: { name, labels: { 'app.kubernetes.io/part-of': 'paved' } },
        spec: {
          policyName: name,
          validationActions: mode === 'enforce' ? ['Deny'] : ['Audit', 'Warn'],
          matchResources: { namespaceSelector: nsSelector },
        },
      });
    }
  }
  return out;
}

/** The shipped YAML file (deploy/admission/webservice-policies.yaml). */
export function renderAdmissionYaml(options: AdmissionOptions = {}): string {
  const header = [
    '# Generated from src/webservice/policy/rules.ts by src/webservice/policy/write-admission.ts. Do not edit.',
    '# The WebService policies that CEL can express, enforced by the API server in every namespace labelled',
    '# paved.dev/team, so that objects made with kubectl meet the same bar as the ones paved renders.',
    '# Not here (they need more than the object): allowed-registries, same-namespace, allowed-kinds.',
  ].join('\n');
  const docs = renderAdmissionPolicies(options).map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false }));
  return `${header}\n---\n${docs.join('---\n')}`;
}
