/**
 * The Team CRD's schema and CEL rules, as the real API server enforces them: invalid Teams are
 * rejected with a message naming the field.
 */
import { describe, expect, it } from 'vitest';
import { KubeClients, toKubeApiError } from '../../src/kube/index.js';
import { adminKubeConfig, uniqueName } from '../support/cluster.js';

const clients = KubeClients.fromKubeConfig(adminKubeConfig());

function teamBody(name: string, spec: Record<string, unknown> = {}) {
  return {
    apiVersion: 'paved.dev/v1alpha1',
    kind: 'Team',
    metadata: { name },
    spec: { owners: { groups: ['team-a'] }, costCenter: 'CC-1', quota: { tier: 'small' }, ...spec },
  };
}

/** Creates with server-side dry run (nothing is stored); resolves to the stored shape or the error message. */
async function create(body: unknown): Promise<{ ok: true; object: any } | { ok: false; message: string; code: number }> {
  try {
    const object = await clients.request({ method: 'POST', path: '/apis/paved.dev/v1alpha1/teams', query: { dryRun: 'All' }, body });
    return { ok: true, object };
  } catch (err) {
    const e = toKubeApiError(err);
    if (!e) throw err;
    return { ok: false, message: e.message, code: e.statusCode };
  }
}

async function rejected(body: unknown): Promise<string> {
  const res = await create(body);
  if (res.ok) throw new Error('expected the API server to reject the Team');
  expect(res.code).toBe(422);
  return res.message;
}

describe('Team CRD validation (real API server)', () => {
  it('accepts a valid Team and defaults deletionPolicy and currency', async () => {
    const res = await create(teamBody(uniqueName('crd-ok'), { environments: ['dev', 'prod'], monthlyBudget: { amount: 1200 } }));
    expect(res.ok).toBe(true);
    if (res.ok) {
      expect(res.object.spec.deletionPolicy).toBe('Retain');
      expect(res.object.spec.monthlyBudget).toEqual({ amount: 1200, currency: 'USD' });
    }
    const explicit = await create(teamBody(uniqueName('crd-ok'), { quota: { cpu: '500m', memory: '1Gi', pods: 10, storage: '5Gi' } }));
    expect(explicit.ok).toBe(true);
  });

  it('is discoverable by short name and category, with printer columns', async () => {
    const discovery = await clients.request<{ resources: Array<{ name: string; namespaced: boolean; shortNames?: string[]; categories?: string[] }> }>({
      method: 'GET',
      path: '/apis/paved.dev/v1alpha1',
    });
    expect(discovery.resources.find((r) => r.name === 'teams')).toMatchObject({ namespaced: false, shortNames: ['tm'], categories: ['paved'] });
    expect(discovery.resources.some((r) => r.name === 'teams/status')).toBe(true);
    const crd = await clients.get<any>({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'teams.paved.dev' });
    expect(crd.spec.versions[0].additionalPrinterColumns.map((c: { name: string }) => c.name)).toEqual([
      'Tier',
      'Cost-Center',
      'Namespaces',
      'Ready',
      'Reason',
      'Age',
    ]);
  });

  it('rejects a name that cannot name a namespace', async () => {
    expect(await rejected(teamBody(`${uniqueName('crd')}.with.dots`))).toMatch(/metadata\.name must be a DNS label/);
    expect(await rejected(teamBody('kube-things'))).toMatch(/metadata\.name must not be a reserved namespace name/);
  });

  it('rejects a name too long for <team>-<environment>', async () => {
    const name = `${uniqueName('crd-long')}-${'x'.repeat(40)}`;
    const message = await rejected(teamBody(name, { environments: ['production-eu-west'] }));
    expect(message).toMatch(/spec\.environments: Invalid value/);
    expect(message).toMatch(/metadata\.name and spec\.environments: '<team>-<environment>' must be at most 63 characters/);
  });

  it('rejects a negative quota', async () => {
    expect(await rejected(teamBody(uniqueName('crd'), { quota: { cpu: '2', memory: '1Gi', pods: -1, storage: '1Gi' } }))).toMatch(
      /spec\.quota\.pods/,
    );
    expect(await rejected(teamBody(uniqueName('crd'), { quota: { cpu: '-2', memory: '1Gi', pods: 1, storage: '1Gi' } }))).toMatch(
      /spec\.quota\.cpu/,
    );
  });

  it('rejects quota bounds outside the limits with the field in the message', async () => {
    expect(await rejected(teamBody(uniqueName('crd'), { quota: { cpu: '5000', memory: '1Gi', pods: 1, storage: '1Gi' } }))).toMatch(
      /spec\.quota\.cpu must be more than 0 and at most 1024/,
    );
    expect(await rejected(teamBody(uniqueName('crd'), { quota: { cpu: '1', memory: '1Mi', pods: 1, storage: '1Gi' } }))).toMatch(
      /spec\.quota\.memory must be between 64Mi and 4Ti/,
    );
  });

  it('rejects an unknown tier', async () => {
    expect(await rejected(teamBody(uniqueName('crd'), { quota: { tier: 'huge' } }))).toMatch(/spec\.quota\.tier: Unsupported value: "huge"/);
  });

  it('rejects a tier together with explicit values, and a partial explicit quota', async () => {
    expect(await rejected(teamBody(uniqueName('crd'), { quota: { tier: 'small', cpu: '2' } }))).toMatch(
      /spec\.quota: set either spec\.quota\.tier or explicit/,
    );
    expect(await rejected(teamBody(uniqueName('crd'), { quota: { cpu: '2' } }))).toMatch(/an explicit quota needs all of/);
  });

  it('rejects a duplicate environment', async () => {
    expect(await rejected(teamBody(uniqueName('crd'), { environments: ['dev', 'dev'] }))).toMatch(
      /spec\.environments\[1\]: Duplicate value: "dev"/,
    );
  });

  it('rejects a bad environment name, a team without owners and a bad cost center', async () => {
    expect(await rejected(teamBody(uniqueName('crd'), { environments: ['Prod'] }))).toMatch(/spec\.environments\[0\]/);
    expect(await rejected(teamBody(uniqueName('crd'), { owners: {} }))).toMatch(/spec\.owners must name at least one group or user/);
    expect(await rejected(teamBody(uniqueName('crd'), { costCenter: 'has spaces' }))).toMatch(/spec\.costCenter/);
  });
});
