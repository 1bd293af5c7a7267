/**
 * Every manifest of deploy/paved and deploy/admission, and every object of each kustomize layout
 * (`kubectl kustomize deploy/`, `deploy/base`, `deploy/overlays/audit`, built by the cluster's kubectl),
 * is accepted by the real API server (server-side apply with dryRun=All: schema validation, defaulting
 * and admission run, nothing is stored). The ServiceMonitor and PrometheusRule are checked against the
 * official prometheus-operator CRDs that the test cluster installs from their Go module (ADR 0004).
 *
 * paved-system is not created in the shared cluster: the namespaced objects are sent to a namespace of
 * this test instead (their only change). That namespace carries the same Pod Security label as the
 * shipped paved-system, and a Pod made from the Deployment's template must pass it.
 */
import { describe, expect, it } from 'vitest';
import { KubeClients, toKubeApiError } from '../../src/kube/index.js';
import { adminKubeConfig, createTestNamespace } from '../support/cluster.js';
import { ADMISSION_DIR, INSTALL_NAMESPACE, PAVED_DIR, applyDoc, loadManifests, shipped, type Doc, type Manifest } from './manifests.js';
import { LAYOUTS, buildLayout } from './kustomize.js';

const admin = KubeClients.fromKubeConfig(adminKubeConfig());

async function dryRunAll(manifests: Manifest[], namespace: string): Promise<{ accepted: string[]; rejected: string[] }> {
  const accepted: string[] = [];
  const rejected: string[] = [];
  for (const { file, doc } of manifests) {
    const target: Doc = doc.metadata.namespace === INSTALL_NAMESPACE ? { ...doc, metadata: { ...doc.metadata, namespace } } : doc;
    const ref = `${file}: ${doc.kind} ${doc.metadata.name}`;
    try {
      const result = await applyDoc(admin, target, { dryRun: true });
      expect(result.kind).toBe(doc.kind);
      accepted.push(ref);
    } catch (err) {
      const e = toKubeApiError(err);
      rejected.push(`${ref}: ${e ? `${e.statusCode} ${e.message}` : String(err)}`);
    }
  }
  return { accepted, rejected };
}

describe('deploy/ manifests against the real API server', () => {
  it('accepts every document of deploy/paved in a server-side dry-run apply', async () => {
    const namespace = await createTestNamespace('paved-dry-run', { 'pod-security.kubernetes.io/enforce': 'restricted' });
    const { accepted, rejected } = await dryRunAll(loadManifests(PAVED_DIR), namespace);
    expect(rejected).toEqual([]);
    expect(accepted.length).toBe(loadManifests(PAVED_DIR).length);
  });

  it('accepts every document of deploy/admission in a server-side dry-run apply', async () => {
    const namespace = await createTestNamespace('paved-dry-run-adm');
    const { accepted, rejected } = await dryRunAll(loadManifests(ADMISSION_DIR), namespace);
    expect(rejected).toEqual([]);
    expect(accepted.length).toBe(loadManifests(ADMISSION_DIR).length);
  });

  for (const layout of LAYOUTS) {
    it(`accepts every object of kubectl kustomize deploy/${layout === '.' ? '' : layout} in a server-side dry-run apply`, async () => {
      const namespace = await createTestNamespace('paved-dry-run-k', { 'pod-security.kubernetes.io/enforce': 'restricted' });
      const docs = await buildLayout(layout);
      const { accepted, rejected } = await dryRunAll(docs.map((doc) => ({ file: `deploy/${layout}`, doc })), namespace);
      expect(rejected).toEqual([]);
      expect(accepted.length).toBe(docs.length);
    });
  }

  it('runs the controller Pod under the restricted Pod Security Standard, and refuses a weakened one', async () => {
    const namespace = await createTestNamespace('paved-psa', {
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'latest',
    });
    const deployment = shipped('Deployment')[0]!;
    // The Pod's ServiceAccount must exist (ServiceAccount admission): the shipped one, in this namespace.
    const sa = shipped('ServiceAccount')[0]!;
    await applyDoc(admin, { ...sa, metadata: { ...sa.metadata, namespace } });
    const pod = (spec: Doc): Doc => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'paved-controller-psa', namespace, labels: deployment.spec.template.metadata.labels },
      spec,
    });
    const create = (body: Doc) =>
      admin.request({ method: 'POST', path: `/api/v1/namespaces/${namespace}/pods`, query: { dryRun: 'All' }, body }).then(
        () => 'accepted',
        (err: unknown) => `${toKubeApiError(err)?.statusCode}: ${toKubeApiError(err)?.message}`,
      );
    expect(await create(pod(deployment.spec.template.spec))).toBe('accepted');

    // The same Pod with privilege escalation allowed is refused: the check above can fail.
    const weakened = structuredClone(deployment.spec.template.spec);
    weakened.containers[0].securityContext.allowPrivilegeEscalation = true;
    expect(await create(pod(weakened))).toMatch(/^403: .*allowPrivilegeEscalation/);
  });
});
