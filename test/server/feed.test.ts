/**
 * The feed: informer events (WebService, Deployment, HTTPRoute, Team) -> projections -> hub messages.
 */
import { describe, expect, it } from 'vitest';
import { startFeed } from '../../src/server/feed.js';
import { StreamHub, type StreamMessage, type StreamSink } from '../../src/server/hub.js';
import { team, webService, world } from './fixtures.js';

function sink(): StreamSink & { messages: StreamMessage[] } {
  const messages: StreamMessage[] = [];
  return { messages, send: (d) => void messages.push(JSON.parse(d) as StreamMessage), bufferedAmount: () => 0, close: () => undefined };
}

describe('startFeed', () => {
  it('projects existing services at start and follows child objects of a service', () => {
    const w = world();
    w.webServices.upsert(webService('team-a', 'shop'));
    const hub = new StreamHub();
    const feed = startFeed({ sources: w.sources, hub });
    expect(hub.view('team-a/shop')?.team).toBe('team-a');
    const s = sink();
    hub.subscribe({ team: 'team-a' }, s);
    w.deployments.upsert({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'shop-canary', namespace: 'team-a', labels: { 'paved.dev/service': 'shop' } }, status: { readyReplicas: 1 } } as never);
    w.httpRoutes.upsert({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'shop', namespace: 'team-a', labels: { 'paved.dev/service': 'shop' } }, spec: { rules: [{ backendRefs: [{ name: 'shop-stable', weight: 90 }, { name: 'shop-canary', weight: 10 }] }] } } as never);
    // An unrelated Deployment changes nothing.
    w.deployments.upsert({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'other', namespace: 'team-a', labels: { 'paved.dev/service': 'other' } } } as never);
    expect(s.messages.map((m) => m.type)).toEqual(['snapshot', 'delta', 'delta']);
    expect(hub.view('team-a/shop')?.reality).toMatchObject({ readyPods: { stable: 0, canary: 1 }, routeWeights: { stable: 90, canary: 10 } });
    w.webServices.remove('shop', 'team-a');
    expect(s.messages.at(-1)?.type).toBe('removed');
    feed.stop();
    w.webServices.upsert(webService('team-a', 'late'));
    expect(hub.view('team-a/late')).toBeUndefined();
  });

  it('re-projects when a Team change moves a namespace, and not for other Team changes', () => {
    const w = world();
    w.webServices.upsert(webService('team-b-dev', 'billing'));
    const hub = new StreamHub();
    startFeed({ sources: w.sources, hub });
    const seq = hub.stats().seq;
    // A status-only change of a Team (quota usage, conditions): no namespace moves, no message.
    w.teams.upsert({ ...team('team-b', ['team-b'], ['dev', 'prod']), status: { conditions: [] } } as never);
    expect(hub.stats().seq).toBe(seq);
    // team-c now claims team-b-dev (and team-b gives it up).
    w.teams.upsert(team('team-b', ['team-b'], ['prod']));
    w.teams.upsert({ ...team('team-c', ['team-c']), status: { namespaces: [{ name: 'team-b-dev', environment: 'dev' }] } } as never);
    expect(hub.view('team-b-dev/billing')?.team).toBe('team-c');
  });

  it('ignores services in namespaces no Team owns', () => {
    const w = world();
    w.webServices.upsert(webService('nobody', 'orphan'));
    const hub = new StreamHub();
    startFeed({ sources: w.sources, hub });
    expect(hub.view('nobody/orphan')).toBeUndefined();
  });
});
