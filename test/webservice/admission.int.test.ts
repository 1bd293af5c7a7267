/**
 * What the API server itself enforces: the WebService CRD's schema and CEL rules (field-level messages),
 * every rendered object accepted by a server-side dry-run with the third-party CRDs installed (property
 * test over random valid specs), and the shipped ValidatingAdmissionPolicies refusing what paved's policy
 * refuses, for objects made with kubectl.
 */
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderAdmissionPolicies } from '../../src/webservice/policy/admission.js';
import { renderWebService } from '../../src/webservice/index.js';
import { eventually } from '../support/eventually.js';
import { FULL, BARE, contextFor, specArb, webService } from './fixtures.js';
import { adminClients, createTeamNamespace } from './harness.js';

async function createWs(ns: string, name: string, spec: unknown): Promise<unknown> {
  return adminClients().request({
    method: 'POST',
    path: `/apis/paved.dev/v1alpha1/namespaces/${ns}/webservices`,
    query: { dryRun: 'All' },
    body: { apiVersion: 'paved.dev/v1alpha1', kind: 'WebService', metadata: { name, namespace: ns }, spec },
  });
}

async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the API server to reject the request');
}

describe('WebService CRD validation (real API server)', () => {
  let ns: string;
  beforeAll(async () => {
    ns = await createTeamNamespace('ws-crd');
  });

  it('accepts a ten-line spec and applies the defaults', async () => {
    const created = (await createWs(ns, 'ok', { image: 'ghcr.io/acme/ok:1.0.0' })) as any;
    expect(created.spec).toMatchObject({ runtime: 'generic', tier: 'small', scaling: { minReplicas: 2, maxReplicas: 5, targetCPUUtilization: 70 }, networking: { visibility: 'private', paths: ['/'] } });
  });

  it.each([
    [{ image: 'ghcr.io/a/b:1', scaling: { minReplicas: 5, maxReplicas: 2 } }, 'spec.scaling.minReplicas', 'minReplicas must not exceed maxReplicas'],
    [{ image: 'ghcr.io/a/b:1', runtime: 'rust' }, 'spec.runtime', 'Unsupported value: "rust"'],
    [{ image: 'ghcr.io/a/b:1', networking: { visibility: 'public', host: 'Not_A_Host' } }, 'spec.networking.host', 'must be a lower-case DNS host name'],
    [{ image: 'ghcr.io/a/b:1', networking: { visibility: 'public' } }, 'spec.networking.host', 'host is required when visibility is public'],
    [{ image: 'Not An Image' }, 'spec.image', 'must be an image reference'],
    [{ image: 'ghcr.io/a/b:1', port: 80 }, 'spec.port', 'should be greater than or equal to 1024'],
    [{ image: 'ghcr.io/a/b:1', delivery: { steps: [{ setWeight: 10, pause: {} }] } }, 'spec.delivery.steps[0]', 'exactly one of setWeight, pause or analysis'],
    [{ image: 'ghcr.io/a/b:1', overrides: { resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } } }, 'spec.overrides.resources.requests.cpu', 'requests.cpu must not exceed limits.cpu'],
    [{ image: 'ghcr.io/a/b:1', advanced: { patches: [{ target: { kind: 'Deployment' } }] } }, 'spec.advanced.patches[0]', 'exactly one of jsonPatch or mergePatch'],
  ])('rejects %j naming %s', async (spec, field, message) => {
    const text = await rejection(createWs(ns, `bad-${randomBytes(3).toString('hex')}`, spec));
    expect(text).toContain(field);
    expect(text).toContain(message);
  });
});

describe('rendered objects vs the real API server', () => {
  it('every object of random valid specs is accepted by a server-side dry-run (third-party CRDs installed)', async () => {
    const ns = await createTeamNamespace('ws-dry');
    const admin = adminClients();
    const samples = fc.sample(fc.tuple(specArb, fc.boolean()), { numRuns: 25, seed: 4242 });
    let checked = 0;
    for (const [i, [spec, gateway]] of samples.entries()) {
      // The WebService itself is valid per the CRD...
      const name = `svc-${i}`;
      const created = (await createWs(ns, name, spec)) as any;
      // ... and each object rendered from the stored (defaulted) spec is valid per the API server.
      const ws = webService(name, ns, created.spec);
      delete ws.metadata!.uid;
      const { objects } = renderWebService(ws, contextFor(gateway ? FULL : BARE));
      for (const obj of objects) {
        try {
          await admin.request({
            method: 'PATCH',
            path: await admin.resourcePath({ apiVersion: obj.apiVersion, kind: obj.kind, namespace: ns, name: obj.metadata.name }),
            query: { fieldManager: 'paved', force: true, dryRun: 'All' },
            body: obj,
            contentType: 'application/apply-patch+yaml',
          });
          checked++;
        } catch (err) {
          throw new Error(`${obj.kind}/${obj.metadata.name} of spec ${JSON.stringify(spec)} rejected: ${(err as Error).message}`);
        }
      }
    }
    expect(checked).toBeGreaterThan(25 * 8);
  });
});

describe('ValidatingAdmissionPolicies (real API server)', () => {
  const id = randomBytes(3).toString('hex');
  const label = `paved.dev/vap-test-${id}`;
  const prefix = `paved-ws-test-${id}`;
  const policies = renderAdmissionPolicies({
    namePrefix: prefix,
    namespaceSelector: { matchLabels: { [label]: 'true' } },
    modes: { 'read-only-root-filesystem': 'audit' },
  }) as unknown as KubernetesObject[];
  let ns: string;

  beforeAll(async () => {
    const admin = adminClients();
    ns = await createTeamNamespace('ws-vap');
    await admin.request({ method: 'PATCH', path: `/api/v1/namespaces/${ns}`, contentType: 'application/merge-patch+json', body: { metadata: { labels: { [label]: 'true' } } } });
    for (const p of policies) {
      await admin.request({
        method: 'PATCH',
        path: await admin.resourcePath({ apiVersion: p.apiVersion!, kind: p.kind!, name: p.metadata!.name! }),
        query: { fieldManager: 'paved-tests', force: true },
        body: p,
        contentType: 'application/apply-patch+yaml',
      });
    }
  });
  afterAll(async () => {
    const admin = adminClients();
    for (const p of policies) {
      await admin
        .request({ method: 'DELETE', path: await admin.resourcePath({ apiVersion: p.apiVersion!, kind: p.kind!, name: p.metadata!.name! }) })
        .catch(() => undefined);
    }
  });

  const rendered = () =>
    renderWebService(webService('vap', 'x', { image: 'ghcr.io/acme/vap:1.0.0' }), contextFor(FULL)).objects.find((o) => o.kind === 'Deployment') as any;

  async function createDeployment(d: any): Promise<void> {
    const body = structuredClone(d);
    body.metadata = { name: `d-${randomBytes(3).toString('hex')}`, namespace: ns, labels: body.metadata.labels };
    await adminClients().request({ method: 'POST', path: `/apis/apps/v1/namespaces/${ns}/deployments`, query: { dryRun: 'All' }, body });
  }

  it('lets a paved-rendered Deployment through and refuses a privileged one made with kubectl', async () => {
    // Policies take a moment to be loaded by the API server: wait until the bad one is refused.
    const bad = rendered();
    // (allowPrivilegeEscalation: false with privileged: true is refused by the API server's own validation)
    bad.spec.template.spec.containers[0].securityContext = { privileged: true, runAsNonRoot: true, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } };
    const message = await eventually(async () => rejection(createDeployment(bad)), { timeoutMs: 30_000 });
    expect(message).toContain('no-privileged: privileged containers are not allowed');
    await createDeployment(rendered());
  });

  it.each([
    ['hostPath', (d: any) => d.spec.template.spec.volumes.push({ name: 'h', hostPath: { path: '/etc' } }), 'no-host-path'],
    ['latest tag', (d: any) => (d.spec.template.spec.containers[0].image = 'ghcr.io/acme/x:latest'), 'no-latest-tag'],
    ['no limits', (d: any) => delete d.spec.template.spec.containers[0].resources.limits, 'resource-limits'],
    ['root user', (d: any) => (d.spec.template.spec.securityContext.runAsUser = 0), 'run-as-non-root'],
    ['host network', (d: any) => (d.spec.template.spec.hostNetwork = true), 'no-host-namespaces'],
    ['added capability', (d: any) => (d.spec.template.spec.containers[0].securityContext.capabilities.add = ['NET_ADMIN']), 'drop-all-capabilities'],
    ['unconfined seccomp', (d: any) => (d.spec.template.spec.securityContext.seccompProfile = { type: 'Unconfined' }), 'seccomp-runtime-default'],
    ['missing team label', (d: any) => delete d.spec.template.metadata.labels['paved.dev/team'], 'required-labels'],
  ])('refuses %s', async (_what, mutate, policy) => {
    const d = rendered();
    mutate(d);
    const message = await eventually(async () => rejection(createDeployment(d)), { timeoutMs: 30_000 });
    expect(message).toContain(`${policy}:`);
  });

  it('only warns for a rule bound in audit mode', async () => {
    const d = rendered();
    d.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem = false;
    await createDeployment(d); // accepted: read-only-root-filesystem is in the [Audit, Warn] policy here
  });

  it('does not touch namespaces outside its selector', async () => {
    const other = await createTeamNamespace('ws-vap-out');
    const d = rendered();
    d.spec.template.spec.containers[0].securityContext = { privileged: true };
    d.metadata = { name: 'free', namespace: other, labels: d.metadata.labels };
    await adminClients().request({ method: 'POST', path: `/apis/apps/v1/namespaces/${other}/deployments`, query: { dryRun: 'All' }, body: d });
  });
});
