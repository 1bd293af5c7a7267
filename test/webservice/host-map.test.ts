import { describe, expect, it } from 'vitest';
import { planHostMap, type HostClaim } from '../../src/webservice/host-map.js';

const claim = (host: string, team: string, createdAt: string, name = host): HostClaim => ({ host, team, namespace: `ns-${team}`, name, createdAt });

describe('planHostMap', () => {
  it('gives each host to the team of its oldest WebService, keys sorted', () => {
    const plan = planHostMap([
      claim('shop.example.com', 'team-b', '2026-01-02T00:00:00Z'),
      claim('shop.example.com', 'team-a', '2026-01-01T00:00:00Z'),
      claim('api.example.com', 'team-b', '2026-01-03T00:00:00Z'),
    ]);
    expect(plan).toEqual({ data: { 'api.example.com': 'team-b', 'shop.example.com': 'team-a' }, dropped: 0 });
    expect(Object.keys(plan.data)).toEqual(['api.example.com', 'shop.example.com']);
  });

  it('breaks ties by namespace/name and lower-cases hosts', () => {
    const t = '2026-01-01T00:00:00Z';
    const plan = planHostMap([{ host: 'Shop.example.com', team: 'team-z', namespace: 'z', name: 'a', createdAt: t }, { host: 'shop.example.com', team: 'team-a', namespace: 'a', name: 'a', createdAt: t }]);
    expect(plan.data).toEqual({ 'shop.example.com': 'team-a' });
  });

  it('is empty without claims (released hosts disappear)', () => {
    expect(planHostMap([])).toEqual({ data: {}, dropped: 0 });
  });

  it('stays within its byte budget, leaving out the newest hosts', () => {
    const claims = Array.from({ length: 10 }, (_, i) => claim(`h${i}.example.com`, 'team-a', `2026-01-${String(i + 1).padStart(2, '0')}T00:00:00Z`));
    const per = 'h0.example.com'.length + 'team-a'.length + 8;
    const plan = planHostMap(claims, per * 4);
    expect(Object.keys(plan.data)).toEqual(['h0.example.com', 'h1.example.com', 'h2.example.com', 'h3.example.com']);
    expect(plan.dropped).toBe(6);
  });
});
