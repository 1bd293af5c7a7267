/**
 * The rest of the restricted Pod Security profile and the cross-tenant escapes (pure): each hostile
 * patch is refused by the named rule, naming the field; the rendered objects pass them all.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_PLATFORM, evaluatePolicies, renderWebService } from '../../src/webservice/index.js';
import type { RenderedObject } from '../../src/webservice/index.js';
import { FULL, contextFor, webService } from './fixtures.js';

const ctx = { namespace: 'team-a', allowedRegistries: [] as string[] };
const rendered = (): RenderedObject[] => structuredClone(renderWebService(webService('shop', 'team-a', { image: 'ghcr.io/acme/shop:1.0.0' }), contextFor(FULL)).objects);
const byKind = (kind: string): any => rendered().find((o) => o.kind === kind)!;

function withPod(fn: (pod: any, c: any, d: any) => void): RenderedObject {
  const d = byKind('Deployment');
  fn(d.spec.template.spec, d.spec.template.spec.containers[0], d);
  return d;
}

describe('restricted profile and cross-tenant rules', () => {
  it('pass the rendered objects', () => {
    expect(evaluatePolicies(rendered(), ctx, DEFAULT_PLATFORM.policyModes).violations).toEqual([]);
  });

  const P = 'spec.template.spec';
  const cases: Array<[string, () => RenderedObject, string]> = [
    ['restricted-selinux', () => withPod((_p, c) => (c.securityContext.seLinuxOptions = { type: 'spc_t' })), `${P}.containers[0].securityContext.seLinuxOptions.type`],
    ['restricted-selinux', () => withPod((p) => (p.securityContext.seLinuxOptions = { user: 'system_u' })), `${P}.securityContext.seLinuxOptions.user`],
    ['restricted-apparmor', () => withPod((_p, c) => (c.securityContext.appArmorProfile = { type: 'Unconfined' })), `${P}.containers[0].securityContext.appArmorProfile.type`],
    ['restricted-apparmor', () => withPod((_p, _c, d) => (d.spec.template.metadata.annotations = { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' })), 'spec.template.metadata.annotations["container.apparmor.security.beta.kubernetes.io/app"]'],
    ['safe-sysctls', () => withPod((p) => (p.securityContext.sysctls = [{ name: 'kernel.msgmax', value: '1' }])), `${P}.securityContext.sysctls[0].name`],
    ['restricted-proc-mount-and-host-process', () => withPod((_p, c) => (c.securityContext.procMount = 'Unmasked')), `${P}.containers[0].securityContext.procMount`],
    ['restricted-proc-mount-and-host-process', () => withPod((p) => (p.securityContext.windowsOptions = { hostProcess: true })), `${P}.securityContext.windowsOptions.hostProcess`],
    ['restricted-volume-types', () => withPod((p) => p.volumes.push({ name: 'n', nfs: { server: 'x', path: '/' } })), `${P}.volumes[1].nfs`],
    ['no-system-priority-class', () => withPod((p) => (p.priorityClassName = 'system-node-critical')), `${P}.priorityClassName`],
    ['no-deployer-identity', () => withPod((p) => (p.serviceAccountName = 'paved-deployer')), `${P}.serviceAccountName`],
    ['no-external-ips', () => { const s = byKind('Service'); s.spec.externalIPs = ['10.0.0.1']; return s; }, 'spec.externalIPs'],
    ['no-unrestricted-egress', () => { const n = byKind('NetworkPolicy'); n.spec.egress.push({ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }); return n; }, 'spec.egress[1].to[0].ipBlock.cidr'],
    ['no-unrestricted-egress', () => { const n = byKind('NetworkPolicy'); n.spec.egress.push({ ports: [{ port: 443 }] }); return n; }, 'spec.egress[1].to'],
    ['no-tenancy-objects', () => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'paved-default-deny-ingress', namespace: 'team-a', labels: byKind('Deployment').metadata.labels }, spec: { podSelector: {}, ingress: [{}] } }), 'metadata.name'],
    ['no-tenancy-objects', () => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'paved-deployer', namespace: 'team-a', labels: byKind('Deployment').metadata.labels } }), 'metadata.name'],
  ];
  it.each(cases)('%s refuses the patch at %s', (policy, make, field) => {
    const obj = make();
    const { violations, allowed } = evaluatePolicies([obj], ctx, DEFAULT_PLATFORM.policyModes);
    expect(allowed).toBe(false);
    const match = violations.find((v) => v.policy === policy);
    expect(match, JSON.stringify(violations)).toMatchObject({ field: field, mode: 'enforce' });
  });
});

describe('host-ownership', () => {
  const route = (): RenderedObject =>
    structuredClone(
      renderWebService(
        webService('shop', 'team-a', { image: 'ghcr.io/acme/shop:1.0.0', networking: { visibility: 'public', host: 'shop.a.example.com' } } as never),
        contextFor(FULL),
      ).objects.find((o) => o.kind === 'HTTPRoute')!,
    );
  const check = (o: RenderedObject, hosts: NonNullable<Parameters<typeof evaluatePolicies>[1]['hosts']>) =>
    evaluatePolicies([o], { ...ctx, hosts }, DEFAULT_PLATFORM.policyModes).violations.filter((v) => v.policy === 'host-ownership');

  it('admits hosts under the team domains, and any host when the team declares none', () => {
    expect(check(route(), { domains: ['a.example.com'] })).toEqual([]);
    expect(check(route(), { domains: [] })).toEqual([]);
    const wildcard = route() as any;
    wildcard.spec.hostnames = ['*.a.example.com'];
    expect(check(wildcard, { domains: ['a.example.com'] })).toEqual([]);
  });

  it('refuses a host outside the domains and a host another team serves, naming the field', () => {
    expect(check(route(), { domains: ['b.example.com'] })).toEqual([
      expect.objectContaining({ field: 'spec.hostnames[0]', message: 'host shop.a.example.com is outside the team\'s domains (b.example.com; Team spec.domains)', mode: 'enforce' }),
    ]);
    // "notexample.com" is not under "example.com"
    const lookalike = route() as any;
    lookalike.spec.hostnames = ['shop.notexample.com'];
    expect(check(lookalike, { domains: ['example.com'] })).toHaveLength(1);
    expect(check(route(), { servedBy: (h) => (h === 'shop.a.example.com' ? 'team-b' : undefined) })).toEqual([
      expect.objectContaining({ field: 'spec.hostnames[0]', message: 'host shop.a.example.com is already served by team team-b' }),
    ]);
  });

  it('checks Ingress rules and TLS hosts of extra manifests too', () => {
    const ingress = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'x', namespace: 'team-a', labels: byKind('Deployment').metadata.labels }, spec: { rules: [{ host: 'evil.b.example.com' }], tls: [{ hosts: ['evil.b.example.com'] }] } } as unknown as RenderedObject;
    expect(check(ingress, { domains: ['a.example.com'] }).map((v) => v.field)).toEqual(['spec.rules[0].host', 'spec.tls[0].hosts[0]']);
  });
});

describe('no-foreign-objects', () => {
  it('refuses an object whose live namesake another WebService or the tenancy controller controls', () => {
    const d = byKind('Deployment');
    const owners: Record<string, string> = { 'Deployment/shop': 'WebService other' };
    const { violations } = evaluatePolicies([d], { ...ctx, foreignOwner: (o) => owners[`${o.kind}/${o.metadata?.name}`] }, DEFAULT_PLATFORM.policyModes);
    expect(violations.filter((v) => v.policy === 'no-foreign-objects')).toEqual([
      expect.objectContaining({ field: 'metadata.name', message: 'Deployment/shop is controlled by WebService other; a WebService may not apply it', mode: 'enforce' }),
    ]);
    expect(evaluatePolicies([d], { ...ctx, foreignOwner: () => undefined }, DEFAULT_PLATFORM.policyModes).violations).toEqual([]);
  });
});
