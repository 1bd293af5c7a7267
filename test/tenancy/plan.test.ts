import { describe, expect, it } from 'vitest';
import type { V1Namespace, V1ResourceQuota } from '@kubernetes/client-node';
import type { Team } from '../../src/api/index.js';
import {
  ORPHANED_AT_ANNOTATION,
  assessTeamStatus,
  decideOrphan,
  planTenancy,
  releasedNamespace,
  type NamespaceOutcome,
} from '../../src/tenancy/plan.js';
import { renderTenancy } from '../../src/tenancy/render.js';

const config = { gatewayNamespace: 'gw', monitoringNamespace: 'mon' };
const now = new Date('2026-01-01T00:00:00Z');

function team(spec: Partial<Team['spec']> = {}, status?: Team['status']): Team {
  return {
    apiVersion: 'paved.dev/v1alpha1',
    kind: 'Team',
    metadata: { name: 'shop', generation: 4 },
    spec: { owners: { groups: ['g'] }, costCenter: 'cc', quota: { tier: 'small' }, ...spec },
    ...(status ? { status } : {}),
  };
}

function ns(name: string, labels: Record<string, string> = {}, extra: Partial<V1Namespace['metadata']> = {}): V1Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels, ...extra }, status: { phase: 'Active' } };
}
const managed = (teamName: string, env = 'default') => ({
  'app.kubernetes.io/managed-by': 'paved',
  'paved.dev/team': teamName,
  'paved.dev/environment': env,
  'paved.dev/cost-center': 'cc',
});

describe('planTenancy', () => {
  it('provisions absent namespaces and its own, refuses someone else’s', () => {
    const t = team({ environments: ['a', 'b', 'c', 'd'] });
    const live = new Map([
      ['shop-b', ns('shop-b', managed('shop', 'b'))],
      ['shop-c', ns('shop-c', { 'paved.dev/team': 'other' })],
      ['shop-d', ns('shop-d')],
    ]);
    const plan = planTenancy(t, renderTenancy(t, config), (n) => live.get(n), []);
    expect(plan.provision.map((p) => p.name)).toEqual(['shop-a', 'shop-b']);
    expect(plan.conflicts).toEqual([
      { namespace: 'shop-c', message: 'namespace shop-c already belongs to team other' },
      { namespace: 'shop-d', message: 'namespace shop-d already exists and is not managed by paved' },
    ]);
  });

  it('re-adopts a namespace it released earlier (same team label)', () => {
    const t = team();
    const released = ns('shop', { 'paved.dev/team': 'shop' });
    const plan = planTenancy(t, renderTenancy(t, config), () => released, [released]);
    expect(plan.provision.map((p) => p.name)).toEqual(['shop']);
    expect(plan.conflicts).toEqual([]);
  });

  it('waits for a desired namespace that is still terminating', () => {
    const t = team();
    const dying = ns('shop', managed('shop'), { deletionTimestamp: new Date() });
    const plan = planTenancy(t, renderTenancy(t, config), () => dying, [dying]);
    expect(plan.provision).toEqual([]);
    expect(plan.terminating).toEqual(['shop']);
  });

  it('removes namespaces of dropped environments by the deletion policy', () => {
    const owned = [ns('shop-old', managed('shop', 'old')), ns('shop-dev', managed('shop', 'dev')), ns('shop-kept', { 'paved.dev/team': 'shop' })];
    const del = team({ environments: ['dev'], deletionPolicy: 'Delete' });
    expect(planTenancy(del, renderTenancy(del, config), () => undefined, owned).removals).toEqual([{ namespace: 'shop-old', action: 'delete' }]);
    const keep = team({ environments: ['dev'] });
    expect(planTenancy(keep, renderTenancy(keep, config), () => undefined, owned).removals).toEqual([{ namespace: 'shop-old', action: 'release' }]);
  });
});

describe('releasedNamespace', () => {
  it('keeps attribution labels, drops managed-by and marks the namespace retained', () => {
    expect(releasedNamespace(ns('shop', { ...managed('shop'), other: 'x' }))).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'shop',
        labels: { 'paved.dev/team': 'shop', 'paved.dev/cost-center': 'cc', 'paved.dev/environment': 'default' },
        annotations: { 'paved.dev/retained': 'true' },
      },
    });
  });
});

describe('decideOrphan', () => {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  it('marks a new orphan with the time it was first seen', () => {
    const d = decideOrphan(ns('x', managed('gone')), t0, 60);
    expect(d).toMatchObject({ action: 'mark', requeueAfterMs: 60_000 });
    if (d.action === 'mark') {
      expect(d.intent.metadata?.annotations).toEqual({ [ORPHANED_AT_ANNOTATION]: '2026-01-01T00:00:00Z' });
      expect(d.intent.metadata?.labels).toEqual(managed('gone'));
    }
  });
  it('waits out the rest of the grace period, then deletes', () => {
    const marked = ns('x', managed('gone'), { annotations: { [ORPHANED_AT_ANNOTATION]: '2026-01-01T00:00:00Z' } });
    expect(decideOrphan(marked, t0 + 20_000, 60)).toEqual({ action: 'wait', requeueAfterMs: 40_000 });
    expect(decideOrphan(marked, t0 + 60_000, 60)).toEqual({ action: 'delete' });
  });
  it('treats an unreadable mark as a new orphan (the clock restarts, never deletes early)', () => {
    const bad = ns('x', managed('gone'), { annotations: { [ORPHANED_AT_ANNOTATION]: 'yesterday' } });
    expect(decideOrphan(bad, t0, 60).action).toBe('mark');
  });
});

describe('assessTeamStatus', () => {
  const quota: V1ResourceQuota = { status: { hard: { pods: '20', 'requests.cpu': '2' }, used: { 'requests.cpu': '0', pods: '0' } } };
  const ok = (name: string, writes = 0): NamespaceOutcome => ({ name, environment: 'default', writes, live: ns(name), quota });

  it('is Ready, not Progressing, not Degraded when everything is applied and nothing was written', () => {
    const t = team();
    const status = assessTeamStatus({ team: t, plan: { provision: [], conflicts: [], removals: [], terminating: [] }, outcomes: [ok('shop')], removing: [], now });
    expect(status.observedGeneration).toBe(4);
    expect(status.namespaces).toEqual([
      { name: 'shop', environment: 'default', phase: 'Active', quota: { hard: { pods: '20', 'requests.cpu': '2' }, used: { pods: '0', 'requests.cpu': '0' } } },
    ]);
    expect(status.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'True', 'NamespacesReady'],
      ['Progressing', 'False', 'Reconciled'],
      ['Degraded', 'False', 'Reconciled'],
    ]);
    expect(status.conditions?.every((c) => c.observedGeneration === 4 && c.lastTransitionTime === '2026-01-01T00:00:00Z')).toBe(true);
  });

  it('keeps transition times when nothing changed (so an unchanged status causes no write)', () => {
    const first = assessTeamStatus({ team: team(), plan: { provision: [], conflicts: [], removals: [], terminating: [] }, outcomes: [ok('shop')], removing: [], now });
    const later = new Date('2026-02-01T00:00:00Z');
    const second = assessTeamStatus({ team: team({}, first), plan: { provision: [], conflicts: [], removals: [], terminating: [] }, outcomes: [ok('shop')], removing: [], now: later });
    expect(second).toEqual(first);
  });

  it('is Progressing after writes and while a namespace is pending', () => {
    const status = assessTeamStatus({
      team: team(),
      plan: { provision: [], conflicts: [], removals: [], terminating: [] },
      outcomes: [ok('shop', 3), { name: 'shop-x', environment: 'x', writes: 0, pending: 'rbac' }],
      removing: [],
      now,
    });
    const byType = Object.fromEntries(status.conditions!.map((c) => [c.type, c]));
    expect(byType['Progressing']).toMatchObject({ status: 'True', message: 'applied 3 object(s); 1 namespace(s) pending' });
    expect(byType['Ready']).toMatchObject({ status: 'False', reason: 'Progressing' });
    expect(status.namespaces?.find((n) => n.name === 'shop-x')?.phase).toBe('Pending');
  });

  it('is Degraded with the namespace and object on a failure or a conflict', () => {
    const failed = assessTeamStatus({
      team: team(),
      plan: { provision: [], conflicts: [], removals: [], terminating: [] },
      outcomes: [{ ...ok('shop'), error: { reason: 'Forbidden', message: 'LimitRange/paved-limits: 403 Forbidden' } }],
      removing: [],
      now,
    });
    expect(failed.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'Forbidden',
      message: 'shop: LimitRange/paved-limits: 403 Forbidden',
    });
    const conflict = assessTeamStatus({
      team: team(),
      plan: { provision: [], conflicts: [{ namespace: 'shop', message: 'namespace shop already belongs to team x' }], removals: [], terminating: [] },
      outcomes: [],
      removing: [],
      now,
    });
    expect(conflict.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'NamespaceConflict' });
  });
});
