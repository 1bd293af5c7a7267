import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Team } from '../../src/api/index.js';
import { DEPLOYER_RULES, TEAM_RULES, renderTenancy, subjectsOf, type TenancyPlatformConfig } from '../../src/tenancy/render.js';
import { formatBytes, formatCpu, parseQuantity } from '../../src/kube/quantity.js';

const config: TenancyPlatformConfig = { gatewayNamespace: 'gateway-system', monitoringNamespace: 'monitoring' };

function team(spec: Partial<Team['spec']> = {}, name = 'payments'): Team {
  return {
    apiVersion: 'paved.dev/v1alpha1',
    kind: 'Team',
    metadata: { name, generation: 1 },
    spec: {
      owners: { groups: ['team-a'] },
      costCenter: 'CC-1234',
      quota: { tier: 'small' },
      ...spec,
    },
  };
}

type AnyObj = KubernetesObject & { spec?: any; rules?: any; subjects?: any; roleRef?: any };
const byName = (objs: KubernetesObject[], kind: string, name: string): AnyObj => {
  const found = objs.find((o) => o.kind === kind && o.metadata?.name === name);
  if (!found) throw new Error(`${kind}/${name} not rendered`);
  return found;
};

describe('renderTenancy', () => {
  it('renders one namespace named after the team when no environments are listed', () => {
    const out = renderTenancy(team(), config);
    expect(out.map((n) => [n.name, n.environment])).toEqual([['payments', 'default']]);
    const ns = out[0]!.bootstrap[0]!;
    expect(ns).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'payments',
        labels: {
          'app.kubernetes.io/managed-by': 'paved',
          'paved.dev/cost-center': 'CC-1234',
          'paved.dev/environment': 'default',
          'paved.dev/team': 'payments',
          // Pod Security Admission: the API server enforces the restricted profile by itself.
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
          'pod-security.kubernetes.io/audit': 'restricted',
          'pod-security.kubernetes.io/audit-version': 'latest',
          'pod-security.kubernetes.io/warn': 'restricted',
          'pod-security.kubernetes.io/warn-version': 'latest',
        },
      },
    });
  });

  it('copies the Team domains to the namespace annotation paved.dev/domains (sorted)', () => {
    const out = renderTenancy(team({ domains: ['shop.example.com', 'api.example.com'] }), config);
    expect(out[0]!.bootstrap[0]!.metadata?.annotations).toEqual({ 'paved.dev/domains': 'api.example.com,shop.example.com' });
  });

  it('renders <team>-<env> per environment, sorted, with the environment label', () => {
    const out = renderTenancy(team({ environments: ['prod', 'dev', 'staging'] }), config);
    expect(out.map((n) => n.name)).toEqual(['payments-dev', 'payments-prod', 'payments-staging']);
    expect(out.map((n) => n.bootstrap[0]!.metadata?.labels?.['paved.dev/environment'])).toEqual(['dev', 'prod', 'staging']);
  });

  it('renders the same objects in the same order with stable names', () => {
    const [ns] = renderTenancy(team(), config);
    const ids = (objs: KubernetesObject[]) => objs.map((o) => `${o.kind}/${o.metadata?.name}`);
    expect(ids(ns!.bootstrap)).toEqual([
      'Namespace/payments',
      'ServiceAccount/paved-deployer',
      'Role/paved-deployer',
      'RoleBinding/paved-deployer',
    ]);
    expect(ids(ns!.objects)).toEqual([
      'ResourceQuota/paved-quota',
      'LimitRange/paved-limits',
      'NetworkPolicy/paved-default-deny-ingress',
      'NetworkPolicy/paved-allow-same-namespace',
      'NetworkPolicy/paved-allow-from-gateway',
      'NetworkPolicy/paved-allow-from-monitoring',
      'NetworkPolicy/paved-allow-dns-egress',
      'Role/paved-team',
      'RoleBinding/paved-team-owners',
      'RoleBinding/paved-team-members',
    ]);
    for (const o of [...ns!.bootstrap.slice(1), ...ns!.objects]) {
      expect(o.metadata?.namespace).toBe('payments');
      expect(o.metadata?.labels).toEqual({
        'app.kubernetes.io/managed-by': 'paved',
        'paved.dev/component': 'tenancy',
        'paved.dev/team': 'payments',
      });
    }
  });

  it('renders no empty lists or maps the API server would drop (they would look like drift)', () => {
    const empties: string[] = [];
    const walk = (v: unknown, path: string) => {
      if (Array.isArray(v)) {
        if (v.length === 0) empties.push(path);
        v.forEach((x, i) => walk(x, `${path}[${i}]`));
      } else if (v && typeof v === 'object') {
        const entries = Object.entries(v);
        // `podSelector: {}` means "all pods" and is kept by the API server.
        if (entries.length === 0 && !path.endsWith('podSelector')) empties.push(path);
        for (const [k, x] of entries) walk(x, `${path}.${k}`);
      }
    };
    for (const ns of renderTenancy(team({ members: {} }), config)) {
      for (const o of [...ns.bootstrap, ...ns.objects]) walk(o, `${o.kind}/${o.metadata?.name}`);
    }
    expect(empties).toEqual([]);
  });

  it('is pure: same input, same output, input untouched', () => {
    const t = team({ environments: ['b', 'a'], members: { users: ['zed', 'amy'] } });
    const frozen = structuredClone(t);
    expect(renderTenancy(t, config)).toEqual(renderTenancy(t, config));
    expect(t).toEqual(frozen);
  });

  it('turns a tier into ResourceQuota hard limits (limits twice the requests)', () => {
    const [ns] = renderTenancy(team({ quota: { tier: 'medium' } }), config);
    expect(byName(ns!.objects, 'ResourceQuota', 'paved-quota').spec).toEqual({
      hard: {
        'limits.cpu': '16',
        'limits.memory': '32Gi',
        pods: '60',
        'requests.cpu': '8',
        'requests.memory': '16Gi',
        'requests.storage': '100Gi',
        'services.loadbalancers': '0',
        'services.nodeports': '0',
      },
    });
  });

  it('turns an explicit quota into canonical quantities', () => {
    const [ns] = renderTenancy(team({ quota: { cpu: '1.5', memory: '3Gi', pods: 7, storage: '10G' } }), config);
    expect(byName(ns!.objects, 'ResourceQuota', 'paved-quota').spec.hard).toMatchObject({
      'limits.cpu': '3',
      'limits.memory': '6Gi',
      pods: '7',
      'requests.cpu': '1500m',
      'requests.memory': '3Gi',
      'requests.storage': '10G',
    });
  });

  it('renders container defaults and maxima, never a default above the maximum', () => {
    const [big] = renderTenancy(team({ quota: { tier: 'large' } }), config);
    expect(byName(big!.objects, 'LimitRange', 'paved-limits').spec).toEqual({
      limits: [
        {
          type: 'Container',
          max: { cpu: '8', memory: '16Gi' },
          default: { cpu: '500m', memory: '512Mi' },
          defaultRequest: { cpu: '100m', memory: '128Mi' },
        },
      ],
    });
    const [tiny] = renderTenancy(team({ quota: { cpu: '100m', memory: '64Mi', pods: 1, storage: '0' } }), config);
    expect(byName(tiny!.objects, 'LimitRange', 'paved-limits').spec.limits[0]).toEqual({
      type: 'Container',
      max: { cpu: '200m', memory: '128Mi' },
      default: { cpu: '200m', memory: '128Mi' },
      defaultRequest: { cpu: '100m', memory: '128Mi' },
    });
  });

  it('denies ingress by default and allows the namespace, the gateway, monitoring and DNS egress', () => {
    const [ns] = renderTenancy(team(), { ...config, gatewayNamespace: 'edge', monitoringNamespace: 'obs' });
    const objs = ns!.objects;
    expect(byName(objs, 'NetworkPolicy', 'paved-default-deny-ingress').spec).toEqual({ podSelector: {}, policyTypes: ['Ingress'] });
    expect(byName(objs, 'NetworkPolicy', 'paved-allow-same-namespace').spec).toEqual({
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ podSelector: {} }] }],
      egress: [{ to: [{ podSelector: {} }] }],
    });
    expect(byName(objs, 'NetworkPolicy', 'paved-allow-from-gateway').spec.ingress).toEqual([
      { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'edge' } } }] },
    ]);
    expect(byName(objs, 'NetworkPolicy', 'paved-allow-from-monitoring').spec.ingress).toEqual([
      { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'obs' } } }] },
    ]);
    expect(byName(objs, 'NetworkPolicy', 'paved-allow-dns-egress').spec).toEqual({
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    });
    // client-node model names must never leak into the JSON we apply.
    expect(JSON.stringify(objs)).not.toMatch(/"_from"|"_default"/);
  });

  it('binds owners and members (groups then users, sorted) to the team Role', () => {
    const [ns] = renderTenancy(
      team({ owners: { groups: ['team-a'], users: ['zoe'] }, members: { groups: ['z-group', 'a-group'], users: ['bob'] } }),
      config,
    );
    const owners = byName(ns!.objects, 'RoleBinding', 'paved-team-owners');
    expect(owners.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'paved-team' });
    expect(owners.subjects).toEqual([
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'team-a' },
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'zoe' },
    ]);
    expect(byName(ns!.objects, 'RoleBinding', 'paved-team-members').subjects.map((s: { name: string }) => s.name)).toEqual([
      'a-group',
      'z-group',
      'bob',
    ]);
    expect(subjectsOf(undefined)).toEqual([]);
  });

  it('binds the deployer ServiceAccount to its Role in its own namespace only', () => {
    const [ns] = renderTenancy(team({ environments: ['dev'] }), config);
    const rb = byName(ns!.bootstrap, 'RoleBinding', 'paved-deployer');
    expect(rb.metadata?.namespace).toBe('payments-dev');
    expect(rb.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'paved-deployer' });
    expect(rb.subjects).toEqual([{ kind: 'ServiceAccount', name: 'paved-deployer', namespace: 'payments-dev' }]);
    expect(byName(ns!.bootstrap, 'ServiceAccount', 'paved-deployer')).toMatchObject({ automountServiceAccountToken: false });
  });
});

describe('RBAC rules', () => {
  const grants = (rules: typeof TEAM_RULES) =>
    new Set(rules.flatMap((r) => (r.apiGroups ?? []).flatMap((g) => (r.resources ?? []).flatMap((res) => r.verbs.map((v) => `${g}|${res}|${v}`)))));

  it('never give the team Secrets, exec, port-forward, tokens, impersonation or RBAC writes', () => {
    for (const rules of [TEAM_RULES, DEPLOYER_RULES]) {
      const all = [...grants(rules)];
      expect(all.filter((g) => /\|(secrets|pods\/exec|pods\/attach|pods\/portforward|serviceaccounts\/token|nodes)\|/.test(g))).toEqual([]);
      expect(all.filter((g) => g.includes('*'))).toEqual([]);
      expect(rules.flatMap((r) => r.verbs).filter((v) => ['escalate', 'bind', 'impersonate'].includes(v))).toEqual([]);
    }
    expect([...grants(TEAM_RULES)].filter((g) => g.startsWith('rbac.authorization.k8s.io'))).toEqual([]);
    expect([...grants(TEAM_RULES)].filter((g) => g.startsWith('apps|') && !/\|(get|list|watch)$/.test(g))).toEqual([]);
  });

  it('give the deployer every right of the team Role (so it can grant it without escalate)', () => {
    const deployer = grants(DEPLOYER_RULES);
    expect([...grants(TEAM_RULES)].filter((g) => !deployer.has(g))).toEqual([]);
  });

  it('let the team work with WebServices', () => {
    const team = grants(TEAM_RULES);
    for (const verb of ['create', 'update', 'patch', 'delete', 'get', 'list', 'watch']) {
      expect(team.has(`paved.dev|webservices|${verb}`)).toBe(true);
    }
    expect(team.has('|pods/log|get')).toBe(true);
  });
});

describe('quantities', () => {
  it('parse and format canonically', () => {
    expect(parseQuantity('500m')).toBeCloseTo(0.5);
    expect(parseQuantity('2Gi')).toBe(2 * 2 ** 30);
    expect(parseQuantity('1.5G')).toBe(1.5e9);
    expect(() => parseQuantity('-1')).toThrow(/not a quantity/);
    expect(formatCpu(0.25)).toBe('250m');
    expect(formatCpu(3)).toBe('3');
    expect(formatBytes(2 * 1.5 * 2 ** 30)).toBe('3Gi');
    expect(formatBytes(1536 * 2 ** 20)).toBe('1536Mi');
    expect(formatBytes(3e9)).toBe('3G');
    expect(formatBytes(1e10, 'decimal')).toBe('10G');
    expect(formatBytes(1e10)).toBe('9765625Ki');
    expect(formatBytes(1001)).toBe('1001');
    expect(formatBytes(0)).toBe('0');
  });
});

describe('renderTenancy over random valid Teams', () => {
  const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,8}[a-z0-9])?$/);
  const quota = fc.oneof(
    fc.constantFrom('small', 'medium', 'large').map((tier) => ({ tier })),
    fc.record({
      cpu: fc.integer({ min: 1, max: 1_024_000 }).map((m) => `${m}m`),
      memory: fc.integer({ min: 64, max: 4 * 1024 * 1024 }).map((m) => `${m}Mi`),
      pods: fc.integer({ min: 1, max: 5000 }),
      storage: fc.integer({ min: 0, max: 100 * 1024 }).map((g) => `${g}Gi`),
    }),
  );
  it('never throws, keeps namespaces valid and defaults within maxima', () => {
    fc.assert(
      fc.property(label, fc.uniqueArray(label, { maxLength: 10 }), quota, (name, environments, q) => {
        const out = renderTenancy(team({ environments, quota: q }, name), config);
        expect(out).toHaveLength(Math.max(1, environments.length));
        for (const ns of out) {
          expect(ns.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
          const lr = byName(ns.objects, 'LimitRange', 'paved-limits').spec.limits[0];
          for (const r of ['cpu', 'memory']) {
            expect(parseQuantity(lr.default[r])).toBeLessThanOrEqual(parseQuantity(lr.max[r]));
            expect(parseQuantity(lr.defaultRequest[r])).toBeLessThanOrEqual(parseQuantity(lr.default[r]));
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
