/**
 * The per-service Grafana dashboard: a ConfigMap for Grafana's dashboard sidecar, owned by the
 * WebService (pruned with it), rendered only with metrics on, with a stable uid and the panels the
 * issue lists (golden signals by track, rollout annotations, this month's cost, rightsizing).
 */
import { describe, expect, it } from 'vitest';
import { renderWebService } from '../../src/webservice/render/index.js';
import { DASHBOARD_SIDECAR_LABEL, serviceDashboardUid } from '../../src/webservice/render/dashboard.js';
import { contextFor, FULL, webService } from './fixtures.js';

const ws = webService('shop', 'team-a', { image: 'ghcr.io/acme/shop:1.0.0' });
const dashboardOf = (objects: ReturnType<typeof renderWebService>['objects']) =>
  objects.find((o) => o.kind === 'ConfigMap' && o.metadata.labels?.[DASHBOARD_SIDECAR_LABEL] === '1');

describe('the service dashboard', () => {
  it('is a sidecar-labelled ConfigMap in the team namespace, owned by the WebService', () => {
    const cm = dashboardOf(renderWebService(ws, contextFor(FULL)).objects) as Record<string, any> | undefined;
    expect(cm).toBeDefined();
    expect(cm?.metadata.namespace).toBe('team-a');
    expect(cm?.metadata.labels[DASHBOARD_SIDECAR_LABEL]).toBe('1');
    expect(cm?.metadata.labels['paved.dev/service']).toBe('shop');
    expect(cm?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'WebService', name: 'shop', controller: true });
    const [file, json] = Object.entries(cm?.data as Record<string, string>)[0]!;
    expect(file).toBe('team-a-shop.json');
    const d = JSON.parse(json) as { uid: string; title: string; panels: Array<{ title: string; targets?: Array<{ expr: string }> }>; annotations: { list: Array<{ name: string }> } };
    expect(d.uid).toBe(serviceDashboardUid({ name: 'shop', namespace: 'team-a', team: 'team-a' }));
    expect(d.uid.length).toBeLessThanOrEqual(40);
    const exprs = d.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
    expect(exprs.some((e) => /sum by \(track\)/.test(e))).toBe(true);
    expect(exprs.some((e) => e.includes('paved_cost_cpu_allocated_core_hours'))).toBe(true);
    expect(exprs.some((e) => e.includes('paved_rightsizing_recommended_request'))).toBe(true);
    expect(d.annotations.list.map((a) => a.name)).toEqual(['Rollout started', 'Rollout promoted', 'Rolled back']);
  });

  it('is the same JSON on every render, and differs per service', () => {
    const a = dashboardOf(renderWebService(ws, contextFor(FULL)).objects);
    expect(dashboardOf(renderWebService(ws, contextFor(FULL)).objects)).toEqual(a);
    const other = dashboardOf(renderWebService(webService('cart', 'team-a', { image: 'ghcr.io/acme/cart:1' }), contextFor(FULL)).objects);
    expect(serviceDashboardUid({ name: 'cart', namespace: 'team-a', team: 'team-a' })).not.toBe(serviceDashboardUid({ name: 'shop', namespace: 'team-a', team: 'team-a' }));
    expect(other?.metadata.name).toBe('cart-dashboard');
  });

  it('is not rendered when the service turns metrics off', () => {
    const off = webService('shop', 'team-a', { image: 'ghcr.io/acme/shop:1.0.0', observability: { metrics: { enabled: false } } });
    expect(dashboardOf(renderWebService(off, contextFor(FULL)).objects)).toBeUndefined();
  });
});
