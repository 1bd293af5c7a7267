/**
 * deploy/paved read as data: the RBAC agrees with what the code grants and installs, the Deployment is
 * hardened and wired to the probes, Service and PodDisruptionBudget, and the ConfigMap is a valid
 * configuration. Whether the API server accepts the objects and whether the RBAC is enough is shown by
 * the integration tests next to this file.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { CRD_DIR, readCrds, yamlFiles } from '../../src/install/crds.js';
import { DEPLOYER_RULES } from '../../src/tenancy/render.js';
import { ADMISSION_DIR, INSTALL_NAMESPACE, PAVED_DIR, SERVICE_ACCOUNT, loadManifests, shipped, type Doc } from './manifests.js';

const all = loadManifests(PAVED_DIR).map((m) => m.doc);
const byName = (kind: string, name: string): Doc => {
  const doc = shipped(kind).find((d) => d.metadata.name === name);
  if (!doc) throw new Error(`deploy/paved ships no ${kind} ${name}`);
  return doc;
};

/** A rule set as comparable strings: one per (group, resource, resourceName, verb). */
function permissions(rules: ReadonlyArray<Doc>): string[] {
  const out = new Set<string>();
  for (const r of rules) {
    const targets = (r.apiGroups ?? []).flatMap((g: string) => (r.resources ?? []).flatMap((res: string) => (r.resourceNames ?? ['*']).map((name: string) => `${g}|${res}|${name}`)));
    for (const t of targets) for (const verb of r.verbs ?? []) out.add(`${t}|${verb}`);
  }
  return [...out].sort();
}

describe('deploy/paved', () => {
  it('installs everything into paved-system, namespace first', () => {
    const files = loadManifests(PAVED_DIR);
    expect(files[0]?.doc.kind).toBe('Namespace');
    expect(files[0]?.doc.metadata.name).toBe(INSTALL_NAMESPACE);
    for (const { doc } of files) {
      const clusterScoped = ['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(doc.kind);
      expect(doc.metadata.namespace, `${doc.kind} ${doc.metadata.name}`).toBe(clusterScoped ? undefined : INSTALL_NAMESPACE);
      expect(doc.metadata.labels?.['app.kubernetes.io/part-of']).toBe('paved');
    }
  });

  it('holds exactly the deployer rules it grants (paved-tenant-grants = DEPLOYER_RULES)', () => {
    expect(permissions(byName('ClusterRole', 'paved-tenant-grants').rules)).toEqual(permissions(DEPLOYER_RULES as Doc[]));
  });

  it('may install exactly the CRDs of crds/, and nothing else of apiextensions', () => {
    const crdNames = readCrds(yamlFiles(CRD_DIR)).map((c) => c.metadata?.name).sort();
    const rules = byName('ClusterRole', 'paved-controller').rules.filter((r: Doc) => r.apiGroups.includes('apiextensions.k8s.io'));
    expect(rules).toHaveLength(1);
    expect([...rules[0].resourceNames].sort()).toEqual(crdNames);
    expect([...rules[0].verbs].sort()).toEqual(['create', 'get', 'patch']);
  });

  it('impersonates only paved-deployer among ServiceAccounts, and reads no Secrets anywhere', () => {
    const roles = [...shipped('ClusterRole'), ...shipped('Role')];
    const perms = roles.flatMap((r) => permissions(r.rules));
    expect(perms.filter((p) => p.startsWith('|serviceaccounts|') && p.endsWith('|impersonate'))).toEqual(['|serviceaccounts|paved-deployer|impersonate']);
    expect(perms.filter((p) => p.includes('|secrets|'))).toEqual([]);
    // No wildcard group, resource or verb ('*' in the third place is this test's "any name").
    expect(perms.filter((p) => { const [g, r, , v] = p.split('|'); return g === '*' || r === '*' || v === '*'; })).toEqual([]);
    expect(perms.filter((p) => /\|(escalate|bind)$/.test(p))).toEqual([]);
    expect(perms.filter((p) => /\|(pods\/exec|pods\/attach|pods\/portforward|serviceaccounts\/token)\|/.test(p))).toEqual([]);
  });

  it('binds every role to the paved ServiceAccount, and the lease rights to the Lease paved-controller', () => {
    const subject = { kind: 'ServiceAccount', name: SERVICE_ACCOUNT, namespace: INSTALL_NAMESPACE };
    const bindings = [...shipped('ClusterRoleBinding'), ...shipped('RoleBinding')];
    const roleNames = [...shipped('ClusterRole'), ...shipped('Role')].map((r) => r.metadata.name).sort();
    expect(bindings.map((b) => b.roleRef.name).sort()).toEqual(roleNames);
    for (const b of bindings) expect(b.subjects).toEqual([subject]);
    const lease = byName('Role', 'paved-leader-election');
    expect(permissions(lease.rules)).toEqual(
      ['coordination.k8s.io|leases|*|create', 'coordination.k8s.io|leases|paved-controller|get', 'coordination.k8s.io|leases|paved-controller|update'].sort(),
    );
    expect(byName('ServiceAccount', SERVICE_ACCOUNT).metadata.namespace).toBe(INSTALL_NAMESPACE);
  });

  it('lets the controller write only the host map ConfigMap it is configured with', () => {
    const role = byName('Role', 'paved-host-map');
    expect(permissions(role.rules)).toEqual(['|configmaps|*|create', '|configmaps|paved-hosts|get', '|configmaps|paved-hosts|patch']);
    const env = byName('ConfigMap', 'paved-config').data;
    expect(env['PAVED_HOST_MAP']).toBe(`${INSTALL_NAMESPACE}/paved-hosts`);
    // The admission policy reads the same map.
    const binding = loadManifests(ADMISSION_DIR).find((m) => m.doc.kind === 'ValidatingAdmissionPolicyBinding' && m.doc.metadata.name === 'paved-host-not-taken');
    expect(binding?.doc.spec.paramRef).toMatchObject({ name: 'paved-hosts', namespace: INSTALL_NAMESPACE, parameterNotFoundAction: 'Allow' });
  });

  it('names the same controller user as the admission parameters', () => {
    const params = loadManifests(ADMISSION_DIR).find((m) => m.doc.kind === 'ConfigMap' && m.doc.metadata.name === 'paved-admission');
    expect(params?.doc.metadata.namespace).toBe(INSTALL_NAMESPACE);
    expect(params?.doc.data.controllerUsers).toBe(`system:serviceaccount:${INSTALL_NAMESPACE}:${SERVICE_ACCOUNT}`);
  });

  it('runs two hardened replicas with probes, identity and the lease namespace', () => {
    const deployment = byName('Deployment', 'paved-controller');
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    expect(deployment.spec.replicas).toBe(2);
    expect(pod.serviceAccountName).toBe(SERVICE_ACCOUNT);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      privileged: false,
      capabilities: { drop: ['ALL'] },
    });
    // Probes go to the health/metrics listener, which binds the pod IP even when the API is loopback-only.
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(container.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(container.resources.limits.memory).toBeTruthy();
    const env = Object.fromEntries(container.env.map((e: Doc) => [e.name, e.value ?? e.valueFrom]));
    expect(env['POD_NAME']).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
    expect(env['PAVED_LEASE_NAMESPACE']).toBe(INSTALL_NAMESPACE);
    const port = container.ports.find((p: Doc) => p.name === 'http');
    expect(String(port.containerPort)).toBe(env['PAVED_HTTP_PORT']);
    expect(env['PAVED_HTTP_HOST']).toBe('0.0.0.0');
    const metricsPort = container.ports.find((p: Doc) => p.name === 'metrics');
    expect(String(metricsPort.containerPort)).toBe(env['PAVED_METRICS_PORT']);
    expect(env['PAVED_METRICS_HOST']).toBe('0.0.0.0');
    // The lease Role is where main.ts looks for the Lease.
    expect(byName('Role', 'paved-leader-election').metadata.namespace).toBe(env['PAVED_LEASE_NAMESPACE']);
  });

  it('selects the Deployment’s pods from the Service and the PodDisruptionBudget', () => {
    const deployment = byName('Deployment', 'paved-controller');
    const labels = deployment.spec.template.metadata.labels;
    const matches = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
    expect(matches(deployment.spec.selector.matchLabels)).toBe(true);
    const service = byName('Service', 'paved');
    expect(matches(service.spec.selector)).toBe(true);
    expect(service.spec.ports.map((p: Doc) => p.targetPort)).toEqual(['http', 'metrics']);
    const pdb = byName('PodDisruptionBudget', 'paved-controller');
    expect(matches(pdb.spec.selector.matchLabels)).toBe(true);
    expect(pdb.spec.minAvailable).toBe(1);
    expect(pdb.spec.minAvailable).toBeLessThan(deployment.spec.replicas);
  });

  it('ships a ConfigMap that is a valid configuration together with the Deployment’s env', () => {
    const config = byName('ConfigMap', 'paved-config');
    const container = byName('Deployment', 'paved-controller').spec.template.spec.containers[0];
    expect(container.envFrom).toEqual([{ configMapRef: { name: 'paved-config' } }]);
    const env: Record<string, string> = { ...config.data, POD_NAME: 'paved-controller-0', KUBERNETES_SERVICE_HOST: '10.96.0.1' };
    for (const e of container.env) if (typeof e.value === 'string') env[e.name] = e.value;
    const parsed = loadConfig(env);
    expect(parsed.PAVED_LEADER_ELECTION).toBe(true);
    expect(parsed.PAVED_HTTP_PORT).toBe(8080);
    expect(parsed.PAVED_LEASE_NAMESPACE).toBe(INSTALL_NAMESPACE);
  });

  it('parses every document of deploy/ (paved and admission)', () => {
    expect(all.length).toBeGreaterThan(10);
    expect(loadManifests(ADMISSION_DIR).length).toBeGreaterThan(0);
  });
});
