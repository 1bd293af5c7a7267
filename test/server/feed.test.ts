/**
 * The feed: informer events (WebService, Deployment, HTTPRoute, Namespace) -> projections -> hub messages.
 */
import { describe, expect, it } from 'vitest';
import { startFeed } from '../../src/server/feed.js';
import { StreamHub, type StreamMessage, type StreamSink } from '../../src/server/hub.js';
import { team, teamNamespace, webService, world } from './fixtures.js';

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
    w.deployments.upsert({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'other', namespace: 'team-a', labels: { 'paved.dev/service': 'other' } } });
    expect(s.messages.map((m) => m.type)).toEqual(['snapshot', 'delta', 'delta']);
    expect(hub.view('team-a/shop')?.reality).toMatchObject({ readyPods: { stable: 0, canary: 1 }, routeWeights: { stable: 90, canary: 10 } });
    w.webServices.remove('shop', 'team-a');
    expect(s.messages.at(-1)?.type).toBe('removed');
    feed.stop();
    w.webServices.upsert(webService('team-a', 'late'));
    expect(hub.view('team-a/late')).toBeUndefined();
  });

  it('re-projects when a Namespace changes owner, and not for Team or other Namespace changes', () => {
    const w = world();
    w.webServices.upsert(webService('team-b-dev', 'billing'));
    const hub = new StreamHub();
    startFeed({ sources: w.sources, hub });
    const seq = hub.stats().seq;
    // A status-only change of a Team (quota usage, conditions): no namespace moves, no message.
    w.teams.upsert({ ...team('team-b', ['team-b'], ['dev', 'prod']), status: { conditions: [] } } as never);
    w.namespaces.upsert({ ...teamNamespace('team-b-dev', 'team-b'), metadata: { ...teamNamespace('team-b-dev', 'team-b').metadata, annotations: { a: 'b' } } });
    expect(hub.stats().seq).toBe(seq);
    // The tenancy controller hands team-b-dev to team-c (its label is what counts).
    w.namespaces.upsert(teamNamespace('team-b-dev', 'team-c'));
    expect(hub.view('team-b-dev/billing')?.team).toBe('team-c');
  });

  it('never attributes a namespace by a Team claim: spec.environments, status.namespaces or an object label', () => {
    const w = world();
    w.webServices.upsert(webService('team-b-dev', 'billing'));
    w.webServices.upsert(webService('team-b-dev', 'labelled', { labels: { 'paved.dev/team': 'team-a' } }));
    // Team "team" claims team-b-dev through spec.environments ("team" + "-b-dev"), team "aaa" through
    // status.namespaces; both sort before team-b in the cache, and team-b's status is empty (a restart).
    w.teams.remove('team-b');
    w.teams.upsert(team('aaa', ['mallory'], ['x']));
    w.teams.upsert({ ...team('aaa', ['mallory'], ['x']), status: { namespaces: [{ name: 'team-b-dev' }] } } as never);
    w.teams.upsert(team('team', ['mallory'], ['b-dev']));
    w.teams.upsert({ ...team('team-b', ['team-b'], ['dev', 'prod']), status: {} } as never);
    const hub = new StreamHub();
    startFeed({ sources: w.sources, hub });
    expect(hub.view('team-b-dev/billing')?.team).toBe('team-b');
    expect(hub.view('team-b-dev/labelled')?.team).toBe('team-b');
    expect(hub.viewsOf({ team: 'team' }).map((v) => v.key)).toEqual([]);
    expect(hub.viewsOf({ team: 'aaa' }).map((v) => v.key)).toEqual([]);
  });

  it('ignores a Namespace labelled paved.dev/team that the controller does not manage', () => {
    const w = world();
    w.namespaces.upsert({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'rogue', labels: { 'paved.dev/team': 'team-a' } } });
    w.webServices.upsert(webService('rogue', 'shop'));
    const hub = new StreamHub();
    startFeed({ sources: w.sources, hub });
    expect(hub.view('rogue/shop')).toBeUndefined();
  });

  it('ignores services in namespaces no Team owns', () => {
    const w = world();
    w.webServices.upsert(webService('nobody', 'orphan'));
    const hub = new StreamHub();
    startFeed({ sources: w.sources, hub });
    expect(hub.view('nobody/orphan')).toBeUndefined();
  });
});
