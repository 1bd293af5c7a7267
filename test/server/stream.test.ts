/**
 * The stream over real WebSockets on loopback: the real server (node-server v2 + ws), the real feed,
 * in-memory caches standing in for informers (events are delivered the same way).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOidcVerifier, type AuthMode } from '../../src/server/auth.js';
import { startFeed, type Feed } from '../../src/server/feed.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { eventually } from '../support/eventually.js';
import { startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.js';
import { buildApp, webService, world, type TestApp } from './fixtures.js';
import { StreamClient } from './stream-client.js';

let issuer: OidcIssuer;
let auth: AuthMode;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  issuer = await startOidcIssuer();
  auth = { kind: 'oidc', verifier: createOidcVerifier({ issuer: issuer.issuer, audience: issuer.audience }) };
});
afterAll(async () => {
  await issuer.stop();
});
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

interface Harness extends ReturnType<typeof world> {
  api: TestApp;
  feed: Feed;
  server: RunningServer;
  client(query: Record<string, string | number>, credential?: { bearer?: string; ticket?: string }, autoPong?: boolean): StreamClient;
}

async function harness(opts: Parameters<typeof buildApp>[0]['hubOptions'] = {}, stream?: { heartbeatMs?: number; closeGraceMs?: number }): Promise<Harness> {
  const w = world();
  const api = buildApp({ sources: w.sources, auth, hubOptions: opts, ...(stream ? { stream } : {}) });
  const feed = startFeed({ sources: w.sources, hub: api.hub });
  const server = await startServer({ api, authMode: 'oidc', port: 0, host: '127.0.0.1', logger: api.log.logger });
  const clients: StreamClient[] = [];
  cleanups.push(async () => {
    for (const c of clients) c.ws.terminate();
    feed.stop();
    await server.close();
  });
  return {
    ...w,
    api,
    feed,
    server,
    client(query, credential, autoPong) {
      const c = new StreamClient({ url: server.url, query, ...(credential ? { credential } : {}), ...(autoPong !== undefined ? { autoPong } : {}) });
      clients.push(c);
      return c;
    },
  };
}

const alice = (): Promise<string> => issuer.mint({ subject: 'alice', groups: ['team-a'] });
const bob = (): Promise<string> => issuer.mint({ subject: 'bob', groups: ['team-b'] });

function withStatus(ns: string, name: string, generation: number, observed: number): ReturnType<typeof webService> {
  return webService(ns, name, { generation, status: { observedGeneration: observed, rollout: { phase: 'Progressing', stableRevision: 'rev-0', stepIndex: observed, weight: 10 * observed } } });
}

describe('stream', () => {
  it('sends a snapshot, then deltas from informer events in order, and never team B', async () => {
    const h = await harness();
    h.webServices.upsert(withStatus('team-a', 'shop', 1, 0));
    h.webServices.upsert(withStatus('team-b-dev', 'secret', 1, 0));
    const c = h.client({ team: 'team-a' }, { bearer: await alice() });
    await c.opened;
    await eventually(() => expect(c.messages[0]?.type).toBe('snapshot'), { timeoutMs: 5_000 });
    for (let g = 1; g <= 5; g++) {
      h.webServices.upsert(withStatus('team-a', 'shop', g + 1, g));
      h.webServices.upsert(withStatus('team-b-dev', 'secret', g + 1, g));
    }
    h.webServices.upsert(webService('team-a', 'cart'));
    h.webServices.remove('cart', 'team-a');
    await eventually(() => expect(c.messages.at(-1)?.type).toBe('removed'), { timeoutMs: 5_000 });
    expect(c.messages.map((m) => m.type)).toEqual(['snapshot', ...Array(5).fill('delta'), 'service', 'removed']);
    const seqs = c.messages.map((m) => m.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(JSON.stringify(c.messages)).not.toContain('secret');
    expect(JSON.stringify(c.messages)).not.toContain('team-b');
    expect(c.applyErrors).toEqual([]);
    expect(Object.fromEntries(c.state)).toEqual(Object.fromEntries(h.api.hub.viewsOf({ team: 'team-a' }).map((v) => [v.key, v])));
    const shop = c.state.get('team-a/shop') as any;
    expect(shop.intent.generation).toBe(6);
    expect(shop.reality).toMatchObject({ observedGeneration: 5, phase: 'Progressing' });
  });

  it('refuses a forbidden team (403), a missing token (401) and a reused ticket (401) before the upgrade', async () => {
    const h = await harness();
    const forbidden = h.client({ team: 'team-b' }, { bearer: await alice() });
    await expect(forbidden.opened).rejects.toThrow();
    expect(forbidden.rejected).toBe(403);
    const anonymous = h.client({ team: 'team-a' });
    await expect(anonymous.opened).rejects.toThrow();
    expect(anonymous.rejected).toBe(401);

    const res = await h.api.app.request('/api/v1/stream/tickets', { method: 'POST', headers: { authorization: `Bearer ${await bob()}` } });
    const { ticket } = (await res.json()) as { ticket: string };
    const withTicket = h.client({ team: 'team-b' }, { ticket });
    await withTicket.opened;
    await eventually(() => expect(withTicket.messages[0]?.type).toBe('snapshot'), { timeoutMs: 5_000 });
    const reused = h.client({ team: 'team-b' }, { ticket });
    await expect(reused.opened).rejects.toThrow();
    expect(reused.rejected).toBe(401);
    expect(withTicket.ws.protocol).toBe('paved.v1');
  });

  it('resumes with `since` after a reconnect: no gap, no duplicate', async () => {
    const h = await harness();
    h.webServices.upsert(withStatus('team-a', 'shop', 1, 0));
    const token = await alice();
    const first = h.client({ team: 'team-a' }, { bearer: token });
    await first.opened;
    for (let g = 1; g <= 3; g++) h.webServices.upsert(withStatus('team-a', 'shop', g + 1, g));
    await eventually(() => expect(first.messages).toHaveLength(4), { timeoutMs: 5_000 });
    await first.close();
    // Missed while disconnected: changes of both teams.
    for (let g = 4; g <= 6; g++) {
      h.webServices.upsert(withStatus('team-a', 'shop', g + 1, g));
      h.webServices.upsert(withStatus('team-b-dev', 'other', g + 1, g));
    }
    h.webServices.upsert(webService('team-a', 'cart'));
    const second = new StreamClient({ url: h.server.url, query: { team: 'team-a', epoch: first.epoch(), since: first.lastSeq() }, credential: { bearer: token }, state: first.state });
    cleanups.push(() => void second.ws.terminate());
    await second.opened;
    await eventually(() => expect(second.messages.at(-1)?.type).toBe('resumed'), { timeoutMs: 5_000 });
    h.webServices.upsert(withStatus('team-a', 'shop', 8, 7));
    await eventually(() => expect(second.messages.at(-1)?.type).toBe('delta'), { timeoutMs: 5_000 });
    expect(second.messages.map((m) => m.type)).toEqual(['delta', 'delta', 'delta', 'service', 'resumed', 'delta']);
    const delivered = [...first.messages, ...second.messages].filter((m) => m.type === 'delta' || m.type === 'service').map((m) => m.seq);
    expect(new Set(delivered).size).toBe(delivered.length);
    // No gap: every team-a change in the hub's history reached the client exactly once.
    // The resumed state is exactly the server's view of the team.
    expect(second.applyErrors).toEqual([]);
    const expected = h.api.hub.viewsOf({ team: 'team-a' });
    expect(Object.fromEntries(second.state)).toEqual(Object.fromEntries(expected.map((v) => [v.key, v])));
    expect((second.state.get('team-a/shop') as any).intent.generation).toBe(8);
  });

  it('drops a slow client with 4008 while a fast one keeps receiving everything', async () => {
    const h = await harness({ maxSendBufferBytes: 256 * 1024 }, { closeGraceMs: 60_000 });
    h.webServices.upsert(webService('team-a', 'shop'));
    const token = await alice();
    const fast = h.client({ team: 'team-a' }, { bearer: token });
    const slow = h.client({ team: 'team-a' }, { bearer: token });
    await Promise.all([fast.opened, slow.opened]);
    // The slow client stops reading: the kernel buffers fill, then the server's send buffer.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const big = 'x'.repeat(64 * 1024);
    let g = 1;
    while (h.api.hub.stats().slowConsumersDropped === 0 && g < 3_000) {
      g++;
      h.webServices.upsert(webService('team-a', 'shop', { generation: g, image: `ghcr.io/acme/app:${g}-${big}` }));
      if (g % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(h.api.hub.stats().slowConsumersDropped).toBe(1);
    for (let i = 0; i < 5; i++) h.webServices.upsert(webService('team-a', 'shop', { generation: ++g, image: `ghcr.io/acme/app:${g}` }));
    const last = h.api.hub.stats().seq;
    await eventually(() => expect(fast.lastSeq()).toBe(last), { timeoutMs: 60_000 });
    const seqs = fast.messages.map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(fast.closed).toBeUndefined();
    // Resumed, the slow client drains what was queued and reads the close frame.
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await eventually(() => expect(slow.closed?.code).toBe(4008), { timeoutMs: 60_000 });
    expect(slow.closed?.reason).toMatch(/slow consumer/);
    expect(h.api.hub.stats().subscribers).toBe(1);
  });

  it('forgets a socket once it closes: no subscriber, no connection, the clients gauge back to 0', async () => {
    const h = await harness();
    const token = await alice();
    const clients = [h.client({ team: 'team-a' }, { bearer: token }), h.client({ team: 'team-a' }, { bearer: token })];
    await Promise.all(clients.map((c) => c.opened));
    await eventually(() => expect(h.api.stream.connections()).toBe(2), { timeoutMs: 5_000 });
    expect(await h.api.registry.metrics()).toMatch(/paved_api_stream_clients 2/);
    await clients[0]?.close();
    clients[1]?.ws.terminate();
    await eventually(() => expect(h.api.stream.connections()).toBe(0), { timeoutMs: 5_000 });
    expect(h.api.hub.stats().subscribers).toBe(0);
    expect(await h.api.registry.metrics()).toMatch(/paved_api_stream_clients 0/);
  });

  it('closes a stream with 4001 when its token expires', async () => {
    const h = await harness();
    // jose accepts up to 30 s of clock skew; a token that expires in 2 s is still valid now.
    const short = await issuer.mint({ subject: 'alice', groups: ['team-a'], expiresInSeconds: 2 });
    const c = h.client({ team: 'team-a' }, { bearer: short });
    await c.opened;
    await eventually(() => expect(c.closed).toEqual({ code: 4001, reason: 'token expired' }), { timeoutMs: 10_000 });
  });

  it('terminates a peer that stops answering pings', async () => {
    // Long enough that a busy event loop does not make the live client look dead.
    const h = await harness({}, { heartbeatMs: 500 });
    const token = await alice();
    const dead = h.client({ team: 'team-a' }, { bearer: token }, false);
    const alive = h.client({ team: 'team-a' }, { bearer: token });
    await Promise.all([dead.opened, alive.opened]);
    await eventually(() => expect(dead.closed?.code).toBe(1006), { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(alive.closed).toBeUndefined();
    await eventually(() => expect(h.api.hub.stats().subscribers).toBe(1), { timeoutMs: 5_000 });
    const metrics = await h.api.registry.metrics();
    expect(metrics).toMatch(/paved_api_stream_dead_peers_total 1/);
  });
});
