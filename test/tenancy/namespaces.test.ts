/**
 * A team's namespaces, one definition for the renderer, the API and cost: what the Team asks for
 * (`teamEnvironments`), narrowed to what the controller-written Namespace labels say it owns.
 */
import { describe, expect, it } from 'vitest';
import type { Team } from '../../src/api/index.js';
import { renderTenancy } from '../../src/tenancy/render.js';
import { namespaceIndex, teamEnvironments, teamNamespaces, teamOfObject } from '../../src/tenancy/namespaces.js';

const team = (name: string, environments?: string[]): Team => ({
  apiVersion: 'paved.dev/v1alpha1',
  kind: 'Team',
  metadata: { name },
  spec: { owners: { groups: [name] }, costCenter: 'cc', quota: { tier: 'small' }, ...(environments ? { environments } : {}) },
});
const ns = (name: string, labels: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
const managed = (name: string, teamName: string) => ns(name, { 'app.kubernetes.io/managed-by': 'paved', 'paved.dev/team': teamName });

describe('team namespaces', () => {
  it('the renderer provisions exactly teamEnvironments', () => {
    const t = team('pay', ['prod', 'dev', 'dev']);
    expect(teamEnvironments(t)).toEqual([
      { namespace: 'pay-dev', environment: 'dev' },
      { namespace: 'pay-prod', environment: 'prod' },
    ]);
    expect(teamEnvironments(team('shop'))).toEqual([{ namespace: 'shop', environment: 'default' }]);
    const rendered = renderTenancy(t, { gatewayNamespace: 'gw', monitoringNamespace: 'mon' }).map((n) => n.name);
    expect(rendered).toEqual(teamEnvironments(t).map((e) => e.namespace));
  });

  it('the API lists what the team asks for and owns: no claim on another team, no unmanaged label, no leftover', () => {
    const owners = namespaceIndex([
      managed('pay-dev', 'pay'),
      managed('pay-prod', 'shop'), // another team owns it: pay's claim shows nothing
      managed('pay-old', 'pay'), // no longer listed
      ns('pay-qa', { 'paved.dev/team': 'pay' }), // not managed by paved: no owner
    ]);
    expect(teamNamespaces(team('pay', ['dev', 'prod', 'qa']), owners)).toEqual(['pay-dev']);
    expect(teamOfObject({ metadata: { namespace: 'pay-prod', labels: { 'paved.dev/team': 'pay' } } }, owners)).toBe('shop');
    expect(teamOfObject({ metadata: { namespace: 'pay-qa' } }, owners)).toBeUndefined();
  });
});
