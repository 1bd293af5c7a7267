/**
 * Keeps the API server's ConfigMap param informer alive for the whole test run.
 *
 * kube-apiserver (v1.36, k8s.io/apiserver admission/plugin/policy/generic/policy_source.go) starts
 * one informer per `paramKind` of a ValidatingAdmissionPolicy, and cancels it at the first policy
 * refresh (every second) at which no binding names that kind. For a built-in kind such as
 * v1/ConfigMap the informer comes from the server's shared informer factory, which never starts it
 * again: from then on every policy with `paramKind: ConfigMap` reads a frozen store, for the life of
 * the process (kubernetes/kubernetes#130887, fix proposed in #141015). A param created later is "not
 * found": with `parameterNotFoundAction: Allow` the binding is skipped and the request is admitted.
 *
 * In the shared cluster, test files bind renamed copies of paved's ConfigMap-param policies and
 * delete them when they end; if one file's binding goes before the next one's arrives, the second
 * file's policy silently stops working (test/webservice/host-admission.int.test.ts was admitted for
 * team B although the host map named team A). This binding, created before any test runs and never
 * deleted, names the kind at all times. It matches no request (a namespace label nothing carries).
 */
import { KubeClients } from '../../src/kube/index.js';

export const PARAM_KEEPER_NAME = 'paved-tests-keep-configmap-params';
const API = 'admissionregistration.k8s.io/v1';

/** The policy and binding that keep the ConfigMap param informer alive (pure; exported for the check). */
export function paramKeeperObjects(): Array<Record<string, any>> {
  const labels = { 'app.kubernetes.io/part-of': 'paved-tests' };
  return [
    {
      apiVersion: API,
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: PARAM_KEEPER_NAME, labels },
      spec: {
        failurePolicy: 'Ignore',
        paramKind: { apiVersion: 'v1', kind: 'ConfigMap' },
        matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'] }] },
        validations: [{ expression: 'true' }],
      },
    },
    {
      apiVersion: API,
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: PARAM_KEEPER_NAME, labels },
      spec: {
        policyName: PARAM_KEEPER_NAME,
        validationActions: ['Deny'],
        matchResources: { namespaceSelector: { matchLabels: { 'paved.dev/never-matches': PARAM_KEEPER_NAME } } },
        paramRef: { name: PARAM_KEEPER_NAME, namespace: 'default', parameterNotFoundAction: 'Allow' },
      },
    },
  ];
}

/**
 * Applies the keeper (server-side apply, idempotent). It is left in place on purpose, also on an
 * existing cluster: deleting it is what would freeze the informer there.
 */
export async function keepConfigMapParamInformer(clients: KubeClients): Promise<void> {
  for (const doc of paramKeeperObjects()) {
    const path = await clients.resourcePath({ apiVersion: doc['apiVersion'], kind: doc['kind'], name: doc['metadata'].name });
    await clients.request({ method: 'PATCH', path, query: { fieldManager: 'paved-tests', force: true }, body: doc, contentType: 'application/apply-patch+yaml' });
  }
}
