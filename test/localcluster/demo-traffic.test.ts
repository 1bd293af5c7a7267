/**
 * Demo traffic of the local stack: one emitter per WebService, registered with Prometheus and removed
 * with the service; the local-only route injects a canary fault and names bad input.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { demoTrafficRoutes, startDemoTraffic, type DemoTraffic } from '../../src/localcluster/demo-traffic.js';

type Handler = (o: KubernetesObject) => void;
function fakeSource(initial: KubernetesObject[]) {
  const handlers: Record<string, Handler[]> = { add: [], update: [], delete: [] };
  return {
    list: () => initial,
    on: (event: 'add' | 'update' | 'delete', h: Handler) => {
      handlers[event]!.push(h);
      return () => undefined;
    },
    emit: (event: 'add' | 'delete', o: KubernetesObject) => handlers[event]!.forEach((h) => h(o)),
  };
}
const ws = (namespace: string, name: string): KubernetesObject => ({ apiVersion: 'paved.dev/v1alpha1', kind: 'WebService', metadata: { namespace, name } });

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
  expect(check()).toBe(true);
}

let demo: DemoTraffic | undefined;
afterEach(async () => demo?.stop());

describe('demo traffic', () => {
  it('gives every WebService an emitter scraped by Prometheus, and removes it with the service', async () => {
    const targets = new Map<string, string>();
    const prometheus = {
      addTarget: async (job: string, hostPort: string) => void targets.set(hostPort, job),
      removeTarget: async (_job: string, hostPort: string) => void targets.delete(hostPort),
    };
    const source = fakeSource([ws('team-a', 'shop')]);
    demo = startDemoTraffic({ source, prometheus });
    source.emit('add', ws('team-a', 'cart'));
    expect(demo.services()).toEqual(['team-a/cart', 'team-a/shop']);
    await until(() => targets.size === 2);
    const [hostPort] = [...targets.keys()];
    const text = await (await fetch(`http://${hostPort}/metrics`)).text();
    expect(text).toMatch(/http_requests_total\{namespace="team-a",service="(shop|cart)",track="canary",code="200"\}/);
    source.emit('delete', ws('team-a', 'cart'));
    expect(demo.services()).toEqual(['team-a/shop']);
    await until(() => targets.size === 1);
  });

  it('injects a canary fault through the local route, and names bad input and unknown services', async () => {
    const source = fakeSource([ws('team-a', 'shop')]);
    demo = startDemoTraffic({ source, prometheus: { addTarget: async () => undefined, removeTarget: async () => undefined } });
    const app = demoTrafficRoutes(demo);
    const post = (path: string, body: unknown) => app.request(path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const ok = await post('/demo/traffic/team-a/shop/canary', { errorRate: 0.3 });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ service: 'team-a/shop', canary: { errorRate: 0.3 } });
    const bad = await post('/demo/traffic/team-a/shop/canary', { errorRate: 3 });
    expect(bad.status).toBe(400);
    expect((await bad.json()) as { error: string }).toMatchObject({ error: expect.stringMatching(/^errorRate: /) });
    const empty = await post('/demo/traffic/team-a/shop/canary', {});
    expect(((await empty.json()) as { error: string }).error).toMatch(/errorRate \(0\.\.1\) or latencySeconds/);
    const missing = await post('/demo/traffic/team-a/nope/canary', { latencySeconds: 2 });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toMatch(/team-a\/nope/);
    expect(await (await app.request('/demo/traffic')).json()).toEqual({ services: ['team-a/shop'] });
  });
});
