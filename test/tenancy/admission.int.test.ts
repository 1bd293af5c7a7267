/**
 * The tenancy ValidatingAdmissionPolicies of deploy/admission/, installed as shipped into the real API
 * server. So that they cannot disturb other tests in the shared cluster, each policy and binding is
 * renamed for this run and each binding is narrowed to namespaces labelled for this run; nothing else
 * about them changes. The audit variants are the bindings of the `overlays/audit` kustomize layout,
 * as `kubectl kustomize` builds it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { KubeClients } from '../../src/kube/index.js';
import { buildLayout } from '../deploy/kustomize.js';
import { adminKubeConfig, clusterInfo } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';

const run = randomBytes(3).toString('hex');
const SCOPE = 'paved.dev/admission-test';
const kc = adminKubeConfig();
const admin = KubeClients.fromKubeConfig(kc);
const intruder = `intruder-${run}`;
const cleanup: Array<() => Promise<unknown>> = [];

type Doc = Record<string, any>;

function load(file: string): Doc[] {
  const path = fileURLToPath(new URL(`../../deploy/admission/${file}`, import.meta.url));
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((d) => d.toJS() as Doc | null)
    .filter((d): d is Doc => !!d);
}

/** The shipped policy, renamed for this run. */
function policy(name: string): Doc {
  const doc = structuredClone(load('tenancy-policies.yaml').find((d) => d.metadata.name === name));
  if (!doc) throw new Error(`policy ${name} not shipped`);
  doc.metadata.name = `${name}-${run}`;
  return doc;
}

/** The bindings of the audit layout (deploy/overlays/audit), read in beforeAll. */
let auditBindings: Doc[] = [];

/** The shipped binding (from tenancy-bindings.yaml or the audit layout), renamed and narrowed to this run. */
function binding(name: string, variant: 'tenancy-bindings.yaml' | 'audit', paramNamespace: string): Doc {
  const source = variant === 'audit' ? auditBindings : load(variant);
  const doc = structuredClone(source.find((d) => d.metadata.name === name));
  if (!doc) throw new Error(`binding ${name} not shipped in ${variant}`);
  doc.metadata.name = `${name}-${run}`;
  doc.spec.policyName = `${name}-${run}`;
  doc.spec.matchResources ??= {};
  doc.spec.matchResources.namespaceSelector ??= {};
  doc.spec.matchResources.namespaceSelector.matchLabels = { ...doc.spec.matchResources.namespaceSelector.matchLabels, [SCOPE]: run };
  if (doc.spec.paramRef) doc.spec.paramRef.namespace = paramNamespace;
  return doc;
}

async function applyDoc(doc: Doc): Promise<void> {
  const path = await admin.resourcePath({ apiVersion: doc.apiVersion, kind: doc.kind, name: doc.metadata.name, namespace: doc.metadata.namespace });
  await admin.request({ method: 'PATCH', path, query: { fieldManager: 'paved-tests', force: true }, body: doc, contentType: 'application/apply-patch+yaml' });
  cleanup.push(() => admin.delete({ apiVersion: doc.apiVersion, kind: doc.kind, name: doc.metadata.name, namespace: doc.metadata.namespace }));
}

interface Answer {
  status: number;
  message: string;
  warnings: string[];
}

/** A raw request (so the Warning headers are visible), optionally impersonating a user. */
async function send(config: KubeConfig, method: string, path: string, body?: unknown, opts: { as?: string; contentType?: string } = {}): Promise<Answer> {
  const server = new URL(config.getCurrentCluster()!.server);
  const options: https.RequestOptions = { method, hostname: server.hostname, port: server.port, path, headers: {} };
  await config.applyToHTTPSOptions(options);
  options.headers = {
    ...options.headers,
    Accept: 'application/json',
    ...(body !== undefined ? { 'Content-Type': opts.contentType ?? 'application/json' } : {}),
    ...(opts.as ? { 'Impersonate-User': opts.as } : {}),
  };
  return new Promise((resolve, reject) => {
    const req = https.request(options, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        const warning = res.headers['warning'];
        const warnings = (Array.isArray(warning) ? warning : warning ? [warning] : []).flatMap((w) => w.split(/,(?=\s*\d{3} )/));
        let message = '';
        try {
          message = (JSON.parse(text) as { message?: string }).message ?? '';
        } catch {
          message = text;
        }
        resolve({ status: res.statusCode ?? 0, message, warnings });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(JSON.stringify(body));
    req.end();
  });
}

async function createNamespace(name: string, labels: Record<string, string>): Promise<void> {
  await admin.request({ method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { [SCOPE]: run, ...labels } } } });
  cleanup.push(() => admin.delete({ apiVersion: 'v1', kind: 'Namespace', name }));
}

const teamLabels = (team: string) => ({ 'app.kubernetes.io/managed-by': 'paved', 'paved.dev/team': team });

function workload(namespace: string, name: string, labels: Record<string, string> = {}): { path: string; body: Doc } {
  return {
    path: `/apis/paved.dev/v1alpha1/namespaces/${namespace}/webservices`,
    body: { apiVersion: 'paved.dev/v1alpha1', kind: 'WebService', metadata: { name, namespace, labels }, spec: { image: 'registry.example.com/web:1.0.0' } },
  };
}

let adminUser = '';
const paramsNs = `adm-params-${run}`;
const teamNs = `adm-team-${run}`;
const plainNs = `adm-plain-${run}`;

beforeAll(async () => {
  auditBindings = (await buildLayout('overlays/audit')).filter((d) => d.kind === 'ValidatingAdmissionPolicyBinding');
  const review = await admin.request<{ status: { userInfo: { username: string } } }>({
    method: 'POST',
    path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  });
  adminUser = review.status.userInfo.username;
  await createNamespace(paramsNs, {});
  await createNamespace(teamNs, teamLabels(`team-${run}`));
  await createNamespace(plainNs, {});
  // The controller is the admin identity of this test; the shipped params name the real controller's ServiceAccount.
  const params = load('tenancy-params.yaml')[0]!;
  expect(params.data.controllerUsers).toBe('system:serviceaccount:paved-system:paved');
  await applyDoc({ ...params, metadata: { ...params.metadata, namespace: paramsNs }, data: { controllerUsers: `system:serviceaccount:paved-system:paved, ${adminUser}` } });
  // An intruder who may edit namespaces (RBAC allows it; only the policy stands in the way).
  await applyDoc({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: intruder },
    rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'create', 'update', 'patch'] }],
  });
  await applyDoc({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: intruder },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: intruder },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: intruder }],
  });
  for (const name of ['paved-webservice-in-team-namespace', 'paved-namespace-labels', 'paved-deployer-not-mountable', 'paved-host-in-team-domains']) {
    await applyDoc(policy(name));
  }
});

afterAll(async () => {
  for (const undo of cleanup.reverse()) await undo().catch(() => undefined);
});

describe('tenancy admission policies (real API server)', () => {
  it('ships a Deny and an Audit+Warn binding for every policy', () => {
    const policies = load('tenancy-policies.yaml').map((d) => d.metadata.name).sort();
    const deny = load('tenancy-bindings.yaml');
    const audit = auditBindings.filter((d) => policies.includes(d.spec.policyName));
    expect(deny.map((d) => d.spec.policyName).sort()).toEqual(policies);
    expect(audit.map((d) => d.spec.policyName).sort()).toEqual(policies);
    for (const d of deny) expect(d.spec.validationActions).toEqual(['Deny']);
    for (const d of audit) expect(d.spec.validationActions).toEqual(['Audit', 'Warn']);
    for (const p of load('tenancy-policies.yaml')) expect(p.spec.failurePolicy).toBe('Fail');
  });

  it('denies a WebService outside a Team namespace, with a message naming the field', async () => {
    await applyDoc(binding('paved-webservice-in-team-namespace', 'tenancy-bindings.yaml', paramsNs));
    const bad = workload(plainNs, 'web');
    const denied = await eventually(async () => {
      const res = await send(kc, 'POST', `${bad.path}?dryRun=All`, bad.body);
      expect(res.status).toBe(403);
      return res;
    });
    expect(denied.message).toContain(`metadata.namespace: WebService web must live in a Team namespace; namespace ${plainNs} is not labelled paved.dev/team`);
    expect(denied.message).toContain(`paved-webservice-in-team-namespace-${run}`);

    const good = workload(teamNs, 'web');
    expect((await send(kc, 'POST', `${good.path}?dryRun=All`, good.body)).status).toBe(201);

    const wrongTeam = workload(teamNs, 'web', { 'paved.dev/team': 'someone-else' });
    const res = await send(kc, 'POST', `${wrongTeam.path}?dryRun=All`, wrongTeam.body);
    expect(res.status).toBe(422);
    expect(res.message).toContain(`metadata.labels[paved.dev/team]: WebService web says team someone-else but namespace ${teamNs} belongs to team team-${run}`);
  });

  it('denies a WebService host or a route hostname outside the team domains, naming the field', async () => {
    await applyDoc(binding('paved-host-in-team-domains', 'tenancy-bindings.yaml', paramsNs));
    const hostNs = `adm-hosts-${run}`;
    await createNamespace(hostNs, teamLabels(`hosts-${run}`));
    await admin.request({ method: 'PATCH', path: `/api/v1/namespaces/${hostNs}`, contentType: 'application/merge-patch+json', body: { metadata: { annotations: { 'paved.dev/domains': 'b.example.com' } } } });
    const web = (host: string): Doc => ({ ...workload(hostNs, 'web').body, spec: { image: 'registry.example.com/web:1.0.0', networking: { visibility: 'public', host } } });
    const path = `/apis/paved.dev/v1alpha1/namespaces/${hostNs}/webservices?dryRun=All`;
    const denied = await eventually(async () => {
      const res = await send(kc, 'POST', path, web('shop.a.example.com'));
      expect(res.status).toBe(403);
      return res;
    });
    expect(denied.message).toContain(`spec.networking.host: shop.a.example.com is outside the domains of namespace ${hostNs} (b.example.com; Team spec.domains)`);
    expect((await send(kc, 'POST', path, web('shop.b.example.com'))).status).toBe(201);
    const route = (hostnames: string[]): Doc => ({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'r', namespace: hostNs },
      spec: { hostnames, rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] },
    });
    const routePath = `/apis/gateway.networking.k8s.io/v1/namespaces/${hostNs}/httproutes?dryRun=All`;
    const routeDenied = await send(kc, 'POST', routePath, route(['ok.b.example.com', 'shop.a.example.com']));
    expect(routeDenied.status).toBe(403);
    expect(routeDenied.message).toContain('spec.hostnames: shop.a.example.com is outside the domains');
    expect((await send(kc, 'POST', routePath, route(['*.b.example.com']))).status).toBe(201);
  });

  it('lets only the controller set or change the paved labels of a namespace', async () => {
    await applyDoc(binding('paved-namespace-labels', 'tenancy-bindings.yaml', paramsNs));
    const fake = `adm-fake-${run}`;
    const body = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: fake, labels: { [SCOPE]: run, ...teamLabels('stolen') } } };
    const denied = await eventually(async () => {
      const res = await send(kc, 'POST', '/api/v1/namespaces?dryRun=All', body, { as: intruder });
      expect(res.status).toBe(403);
      return res;
    });
    expect(denied.message).toContain(
      `metadata.labels: app.kubernetes.io/managed-by, paved.dev/team of namespace ${fake} can only be set or changed by the paved controller, not by ${intruder}`,
    );
    // The controller may.
    expect((await send(kc, 'POST', '/api/v1/namespaces?dryRun=All', body)).status).toBe(201);

    const merge = (labels: Record<string, string | null>) => ({ metadata: { labels } });
    const patch = (labels: Record<string, string | null>, as?: string) =>
      send(kc, 'PATCH', `/api/v1/namespaces/${teamNs}?dryRun=All`, merge(labels), { contentType: 'application/merge-patch+json', ...(as ? { as } : {}) });
    const relabel = await patch({ 'paved.dev/team': 'stolen' }, intruder);
    expect(relabel.status).toBe(403);
    expect(relabel.message).toContain('metadata.labels: paved.dev/team of namespace');
    const unmanage = await patch({ 'app.kubernetes.io/managed-by': null }, intruder);
    expect(unmanage.status).toBe(403);
    expect(unmanage.message).toContain('metadata.labels: app.kubernetes.io/managed-by of namespace');
    const unrestrict = await patch({ 'pod-security.kubernetes.io/enforce': 'privileged' }, intruder);
    expect(unrestrict.status).toBe(403);
    expect(unrestrict.message).toContain('metadata.labels: pod-security.kubernetes.io/enforce of namespace');
    // Other labels stay editable by anyone RBAC allows.
    expect((await patch({ 'example.com/owner': 'ops' }, intruder)).status).toBe(200);
    expect((await patch({ 'paved.dev/team': 'moved' })).status).toBe(200);
  });

  it('keeps the deployer identity out of pods and tokens', async () => {
    await applyDoc(binding('paved-deployer-not-mountable', 'tenancy-bindings.yaml', paramsNs));
    await applyDoc({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'paved-deployer', namespace: teamNs } });
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'sneaky', namespace: teamNs },
      spec: { serviceAccountName: 'paved-deployer', containers: [{ name: 'c', image: 'registry.example.com/x:1' }] },
    };
    const denied = await eventually(async () => {
      const res = await send(kc, 'POST', `/api/v1/namespaces/${teamNs}/pods?dryRun=All`, pod);
      expect(res.status).toBe(403);
      return res;
    });
    expect(denied.message).toContain('spec.serviceAccountName: pod sneaky must not run as paved-deployer');
    const token = await send(kc, 'POST', `/api/v1/namespaces/${teamNs}/serviceaccounts/paved-deployer/token?dryRun=All`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 600 },
    });
    expect(token.status).toBe(403);
    expect(token.message).toContain(`metadata.name: no token may be issued for the paved-deployer ServiceAccount of ${teamNs}`);
    const fine = { ...pod, metadata: { name: 'fine', namespace: teamNs }, spec: { ...pod.spec, serviceAccountName: 'default' } };
    await applyDoc({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: teamNs } }).catch(() => undefined);
    expect((await send(kc, 'POST', `/api/v1/namespaces/${teamNs}/pods?dryRun=All`, fine)).status).toBe(201);
  });

  it('in audit mode allows the request, warns the client and records the violation', async () => {
    // Replace the enforcing binding by the audit variant of the same policy.
    const deny = binding('paved-webservice-in-team-namespace', 'tenancy-bindings.yaml', paramsNs);
    await admin.delete({ apiVersion: deny.apiVersion, kind: deny.kind, name: deny.metadata.name });
    const audit = binding('paved-webservice-in-team-namespace', 'audit', paramsNs);
    audit.metadata.name = `${audit.metadata.name}-audit`;
    await applyDoc(audit);
    const bad = workload(plainNs, `audited-${run}`);
    const res = await eventually(async () => {
      const r = await send(kc, 'POST', `${bad.path}?dryRun=All`, bad.body);
      expect(r.status).toBe(201);
      expect(r.warnings.join('\n')).toContain('must live in a Team namespace');
      return r;
    });
    expect(res.warnings.join('\n')).toContain(`paved-webservice-in-team-namespace-${run}`);
    const auditLog = clusterInfo().auditLog;
    if (clusterInfo().provider === 'local' && auditLog) {
      await eventually(() => {
        const hit = readFileSync(auditLog, 'utf8')
          .split('\n')
          .filter((l) => l.includes(`audited-${run}`) && l.includes('validation.policy.admission.k8s.io/validation_failure'));
        expect(hit.length).toBeGreaterThan(0);
        expect(hit[0]).toContain(`paved-webservice-in-team-namespace-${run}`);
      });
    }
  });
});
