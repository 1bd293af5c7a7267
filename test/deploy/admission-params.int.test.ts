/**
 * The shared cluster's API server keeps resolving ConfigMap params of admission policies after a
 * ConfigMap-param binding goes away (test/support/param-informers.ts, kubernetes/kubernetes#130887):
 * a first policy and binding are applied and deleted, a second pair with a new ConfigMap param comes
 * a few refresh ticks later, and its param must refuse a request. Without the keeper binding of the
 * global setup (PAVED_TEST_KEEP_PARAM_INFORMERS=0, and no other ConfigMap-param binding alive at the
 * time) the second param is never found and the request is admitted: this test then fails.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { KubeApiError } from '../../src/kube/api-errors.js';
import { KubeClients } from '../../src/kube/index.js';
import { adminKubeConfig, createTestNamespace } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { PARAM_KEEPER_NAME } from '../support/param-informers.js';

const admin = KubeClients.fromKubeConfig(adminKubeConfig());
const API = 'admissionregistration.k8s.io/v1';
const cleanup: Array<() => Promise<unknown>> = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A policy refusing Secrets in one namespace when its ConfigMap param says deny=yes (Allow when the param is not found). */
async function bindPolicy(tag: string): Promise<{ namespace: string; remove: () => Promise<void> }> {
  const name = `params-${tag}`;
  const namespace = await createTestNamespace(name, { 'paved.dev/params-test': tag });
  await admin.request({ method: 'POST', path: `/api/v1/namespaces/${namespace}/configmaps`, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'params' }, data: { deny: 'yes' } } });
  await admin.request({
    method: 'POST',
    path: `/apis/${API}/validatingadmissionpolicies`,
    body: {
      apiVersion: API,
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name },
      spec: {
        failurePolicy: 'Fail',
        paramKind: { apiVersion: 'v1', kind: 'ConfigMap' },
        matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['secrets'] }] },
        validations: [{ expression: "params.data[?'deny'].orValue('') != 'yes'", message: `refused by the param of ${name}`, reason: 'Forbidden' }],
      },
    },
  });
  await admin.request({
    method: 'POST',
    path: `/apis/${API}/validatingadmissionpolicybindings`,
    body: {
      apiVersion: API,
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name },
      spec: {
        policyName: name,
        validationActions: ['Deny'],
        matchResources: { namespaceSelector: { matchLabels: { 'paved.dev/params-test': tag } } },
        paramRef: { name: 'params', namespace, parameterNotFoundAction: 'Allow' },
      },
    },
  });
  const remove = async () => {
    await admin.delete({ apiVersion: API, kind: 'ValidatingAdmissionPolicyBinding', name }).catch(() => false);
    await admin.delete({ apiVersion: API, kind: 'ValidatingAdmissionPolicy', name }).catch(() => false);
  };
  cleanup.push(remove);
  return { namespace, remove };
}

/** The status of a dry-run Secret create in `namespace` (201 admitted, 403 refused by the policy). */
async function probe(namespace: string): Promise<{ status: number; message: string }> {
  try {
    await admin.request({ method: 'POST', path: `/api/v1/namespaces/${namespace}/secrets`, query: { dryRun: 'All' }, body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'probe' } } });
    return { status: 201, message: '' };
  } catch (err) {
    if (err instanceof KubeApiError) return { status: err.statusCode, message: err.message };
    throw err;
  }
}

afterAll(async () => {
  for (const undo of cleanup.reverse()) await undo();
});

describe('ConfigMap params of admission policies in the shared cluster', () => {
  it('the keeper binding of the global setup is there', async () => {
    if (process.env['PAVED_TEST_KEEP_PARAM_INFORMERS'] === '0') return;
    expect(await admin.get({ apiVersion: API, kind: 'ValidatingAdmissionPolicyBinding', name: PARAM_KEEPER_NAME })).toBeDefined();
  });

  it('a param created after another ConfigMap-param binding went away still refuses', async () => {
    const tag = randomBytes(3).toString('hex');
    const first = await bindPolicy(`${tag}-1`);
    await eventually(async () => expect((await probe(first.namespace)).status).toBe(403), { timeoutMs: 30_000, intervalMs: 250 });
    await first.remove();
    // Several of the API server's 1 s policy refreshes with the first binding gone.
    await sleep(3_000);
    const second = await bindPolicy(`${tag}-2`);
    const started = Date.now();
    const refused = await eventually(
      async () => {
        const answer = await probe(second.namespace);
        expect(answer.status, `admitted ${Date.now() - started} ms after the binding: the API server does not see the ConfigMap param (kubernetes/kubernetes#130887)`).toBe(403);
        return answer;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(refused.message).toContain(`refused by the param of params-${tag}-2`);
  }, 120_000);
});
