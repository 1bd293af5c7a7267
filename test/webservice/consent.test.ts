/**
 * Cross-team dependency consent (pure): who a callee admits, and what the caller is told otherwise.
 */
import { describe, expect, it } from 'vitest';
import { calleeAllows, refusedDependencies } from '../../src/webservice/consent.js';
import type { WebService } from '../../src/webservice/render/index.js';

function ws(namespace: string, name: string, networking: Record<string, unknown> = {}): WebService {
  return { apiVersion: 'paved.dev/v1alpha1', kind: 'WebService', metadata: { namespace, name }, spec: { image: 'x:1', networking } };
}

describe('calleeAllows', () => {
  const shop = ws('team-a', 'shop');
  it('admits the same namespace and the same team without asking', () => {
    expect(calleeAllows(shop, 'team-a', { namespace: 'team-a', team: 'team-a' })).toBe(true);
    expect(calleeAllows(shop, 'team-a', { namespace: 'team-a-dev', team: 'team-a' })).toBe(true);
  });
  it('refuses another team, a namespace without a team, and a caller claiming nothing', () => {
    expect(calleeAllows(shop, 'team-a', { namespace: 'team-b', team: 'team-b' })).toBe(false);
    expect(calleeAllows(shop, 'team-a', { namespace: 'loose' })).toBe(false);
    expect(calleeAllows(shop, undefined, { namespace: 'team-b' })).toBe(false);
  });
  it('admits what the callee lists, by team or by namespace, and nothing else', () => {
    const open = ws('team-a', 'shop', { allowedCallers: [{ team: 'team-b' }, { namespace: 'partners' }] });
    expect(calleeAllows(open, 'team-a', { namespace: 'team-b-prod', team: 'team-b' })).toBe(true);
    expect(calleeAllows(open, 'team-a', { namespace: 'partners' })).toBe(true);
    expect(calleeAllows(open, 'team-a', { namespace: 'team-c', team: 'team-c' })).toBe(false);
  });
});

describe('refusedDependencies', () => {
  it('names the field, the callee and what its owner must add; skips admitted, local and missing ones', () => {
    const caller = ws('team-b', 'client', {
      dependencies: [{ service: 'local' }, { service: 'shop', namespace: 'team-a' }, { service: 'open', namespace: 'team-a' }, { service: 'ghost', namespace: 'team-a' }],
    });
    const callees: Record<string, WebService> = {
      'team-a/shop': ws('team-a', 'shop'),
      'team-a/open': ws('team-a', 'open', { allowedCallers: [{ team: 'team-b' }] }),
    };
    const refused = refusedDependencies(caller, 'team-b', (ns, name) => {
      const found = callees[`${ns}/${name}`];
      return found ? { ws: found, team: 'team-a' } : undefined;
    });
    expect(refused).toEqual([
      {
        field: 'spec.networking.dependencies[1]',
        callee: 'team-a/shop',
        message:
          'spec.networking.dependencies[1]: team-a/shop (team team-a) does not allow this caller: its owner must add team team-b or namespace team-b to its spec.networking.allowedCallers',
      },
    ]);
  });
});
