import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { evaluatePolicies, renderWebService, previewWebService, POLICY_RULES, DEFAULT_PLATFORM } from '../../src/webservice/index.js';
import { renderAdmissionYaml } from '../../src/webservice/policy/admission.js';
import { imageTag, isAllowedImage } from '../../src/webservice/policy/rules.js';
import type { RenderedObject } from '../../src/webservice/index.js';
import { FULL, contextFor, webService } from './fixtures.js';

const ctx = { namespace: 'team-a', allowedRegistries: [] as string[] };

function deployment(): RenderedObject {
  const r = renderWebService(webService('shop', 'team-a', { image: 'ghcr.io/acme/shop:1.0.0' }), contextFor(FULL));
  return structuredClone(r.objects.find((o) => o.kind === 'Deployment')!);
}

function mutate(fn: (pod: any, c: any, obj: any) => void): RenderedObject {
  const d = deployment() as any;
  fn(d.spec.template.spec, d.spec.template.spec.containers[0], d);
  return d;
}

describe('policy rules', () => {
  const cases: Array<[string, (pod: any, c: any, obj: any) => void, string]> = [
    ['no-privileged', (_p, c) => (c.securityContext.privileged = true), 'spec.template.spec.containers[0].securityContext.privileged'],
    ['no-privilege-escalation', (_p, c) => delete c.securityContext.allowPrivilegeEscalation, 'spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation'],
    ['no-host-namespaces', (p) => (p.hostNetwork = true), 'spec.template.spec.hostNetwork'],
    ['no-host-path', (p) => p.volumes.push({ name: 'h', hostPath: { path: '/' } }), 'spec.template.spec.volumes[1].hostPath'],
    ['no-host-ports', (_p, c) => (c.ports[0].hostPort = 80), 'spec.template.spec.containers[0].ports[0].hostPort'],
    ['run-as-non-root', (p, c) => { delete p.securityContext.runAsNonRoot; delete c.securityContext.runAsNonRoot; }, 'spec.template.spec.containers[0].securityContext.runAsNonRoot'],
    ['run-as-non-root', (p) => (p.securityContext.runAsUser = 0), 'spec.template.spec.containers[0].securityContext.runAsUser'],
    ['drop-all-capabilities', (_p, c) => (c.securityContext.capabilities = { add: ['SYS_ADMIN'], drop: ['ALL'] }), 'spec.template.spec.containers[0].securityContext.capabilities.add[0]'],
    ['seccomp-runtime-default', (p) => (p.securityContext.seccompProfile = { type: 'Unconfined' }), 'spec.template.spec.securityContext.seccompProfile.type'],
    ['read-only-root-filesystem', (_p, c) => (c.securityContext.readOnlyRootFilesystem = false), 'spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem'],
    ['resource-limits', (_p, c) => delete c.resources.limits.memory, 'spec.template.spec.containers[0].resources.limits.memory'],
    ['no-latest-tag', (_p, c) => (c.image = 'ghcr.io/acme/shop:latest'), 'spec.template.spec.containers[0].image'],
    ['no-latest-tag', (_p, c) => (c.image = 'ghcr.io/acme/shop'), 'spec.template.spec.containers[0].image'],
    ['required-labels', (_p, _c, o) => delete o.metadata.labels['paved.dev/team'], 'metadata.labels["paved.dev/team"]'],
    ['required-labels', (_p, _c, o) => delete o.spec.template.metadata.labels['paved.dev/service'], 'spec.template.metadata.labels["paved.dev/service"]'],
    ['same-namespace', (_p, _c, o) => (o.metadata.namespace = 'team-b'), 'metadata.namespace'],
    ['allowed-kinds', (_p, _c, o) => (o.kind = 'DaemonSet'), 'kind'],
  ];
  for (const [policy, fn, field] of cases) {
    it(`${policy} objects to ${field}`, () => {
      const result = evaluatePolicies([mutate(fn)], ctx);
      expect(result.allowed).toBe(false);
      expect(result.enforced).toContainEqual(expect.objectContaining({ policy, field, object: expect.stringMatching(/\/shop$/), mode: 'enforce' }));
    });
  }

  it('checks init containers and pods of every workload kind', () => {
    const job = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'c', namespace: 'team-a', labels: {} },
      spec: { jobTemplate: { spec: { template: { spec: { initContainers: [{ name: 'i', image: 'x:1', securityContext: { privileged: true } }], containers: [] } } } } },
    } as unknown as RenderedObject;
    const result = evaluatePolicies([job], ctx);
    expect(result.enforced).toContainEqual(expect.objectContaining({ policy: 'no-privileged', field: 'spec.jobTemplate.spec.template.spec.initContainers[0].securityContext.privileged' }));
  });

  it('only counts rules in audit mode', () => {
    const result = evaluatePolicies([mutate((_p, c) => (c.image = 'ghcr.io/acme/shop:latest'))], ctx, { 'no-latest-tag': 'audit' });
    expect(result.allowed).toBe(true);
    expect(result.audited).toEqual([expect.objectContaining({ policy: 'no-latest-tag', mode: 'audit' })]);
    expect(result.enforced).toEqual([]);
  });

  it('checks registries against the allowed list', () => {
    expect(isAllowedImage('ghcr.io/acme/shop:1', ['ghcr.io/acme'])).toBe(true);
    expect(isAllowedImage('ghcr.io/acmex/shop:1', ['ghcr.io/acme'])).toBe(false);
    expect(isAllowedImage('nginx:1.27', ['docker.io/library'])).toBe(true);
    expect(isAllowedImage('evil.io/x:1', ['ghcr.io'])).toBe(false);
    expect(isAllowedImage('anything:1', [])).toBe(true);
    const result = evaluatePolicies([deployment()], { namespace: 'team-a', allowedRegistries: ['registry.example.com'] });
    expect(result.enforced[0]).toMatchObject({ policy: 'allowed-registries', field: 'spec.template.spec.containers[0].image' });
  });

  it('parses tags', () => {
    expect(imageTag('localhost:5000/a')).toBeUndefined();
    expect(imageTag('localhost:5000/a:1')).toBe('1');
    expect(imageTag('a@sha256:' + 'b'.repeat(64))).toBe('@digest');
  });

  it('refuses an escape-hatch patch that makes the container privileged, naming policy, object and field', () => {
    const ws = webService('shop', 'team-a', {
      image: 'ghcr.io/acme/shop:1.0.0',
      advanced: { patches: [{ target: { kind: 'Deployment' }, mergePatch: { spec: { template: { spec: { containers: [{ name: 'app', securityContext: { privileged: true } }] } } } } }] },
    });
    const preview = previewWebService(ws, contextFor(FULL));
    expect(preview.policy.allowed).toBe(false);
    expect(preview.policy.enforced).toEqual([
      { policy: 'no-privileged', object: 'Deployment/shop', field: 'spec.template.spec.containers[0].securityContext.privileged', message: 'privileged containers are not allowed', mode: 'enforce' },
    ]);
  });

  it('checks extra manifests too', () => {
    const ws = webService('shop', 'team-a', {
      image: 'ghcr.io/acme/shop:1.0.0',
      advanced: { extraManifests: [{ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'x' } }] },
    });
    const preview = previewWebService(ws, { ...contextFor(FULL), platform: DEFAULT_PLATFORM });
    expect(preview.policy.enforced).toContainEqual(expect.objectContaining({ policy: 'allowed-kinds', object: 'ClusterRoleBinding/x' }));
  });

  it('has unique kebab-case names', () => {
    const names = POLICY_RULES.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });

  it('ships the CEL-expressible rules as admission policies (file matches the rules)', () => {
    const file = readFileSync(fileURLToPath(new URL('../../deploy/admission/webservice-policies.yaml', import.meta.url)), 'utf8');
    expect(file, 'regenerate with: node --import tsx src/webservice/policy/write-admission.ts').toBe(renderAdmissionYaml());
  });
});
