/**
 * Bad input never gets a 5xx: hostile token claims (a property test over claim shapes), oversized
 * bodies, ticket floods, stream handshakes without paved.v1 or with a forbidden scope (refused with a
 * `{code, message}` body), `__proto__` config keys, combined durations, and API server messages shown
 * without paved's internal request paths.
 */
import { validateHeaderValue } from 'node:http';
import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiError, kubeApiErrorFrom } from '../../src/kube/api-errors.js';
import { fromKubeError } from '../../src/server/api-error.js';
import { TicketStore, createOidcVerifier, identityFromPayload, type AuthMode } from '../../src/server/auth.js';
import { startFeed } from '../../src/server/feed.js';
import { startServer } from '../../src/server/serve.js';
import { resolveCaller } from '../../src/access/index.js';
import { callerIdentity } from '../../src/server/writer.js';
import { startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.js';
import { buildApp, recordingWriter, roles, webService, world, type TestApp } from './fixtures.js';
import { StreamClient } from './stream-client.js';

let issuer: OidcIssuer;
let auth: AuthMode;
const cleanups: Array<() => Promise<void> | void> = [];
beforeAll(async () => {
  issuer = await startOidcIssuer({ audience: 'paved-api' });
  auth = { kind: 'oidc', verifier: createOidcVerifier({ issuer: issuer.issuer, audience: issuer.audience }) };
});
afterAll(async () => {
  await issuer.stop();
});
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/**
 * A writer that requires the caller's identity to be valid as HTTP header values: the real one sends it
 * in a SubjectAccessReview's JSON body, but no hostile claim may reach it with CR/LF or worse either way.
 */
function headerCheckingWriter(): ReturnType<typeof recordingWriter> {
  return recordingWriter((w) => {
    const id = callerIdentity(w.caller);
    validateHeaderValue('Impersonate-User', id.user);
    for (const g of id.groups) validateHeaderValue('Impersonate-Group', g);
    return undefined;
  });
}

function setup(): TestApp & ReturnType<typeof world> {
  const w = world();
  w.webServices.upsert(webService('team-a', 'shop'));
  return { ...w, ...buildApp({ sources: w.sources, auth, writer: headerCheckingWriter() }) };
}

async function send(t: TestApp, method: string, path: string, token: string, body?: string): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await t.app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

const intent = JSON.stringify({ name: 'cart', image: 'ghcr.io/acme/cart:1.0.0' });

describe('hostile token claims', () => {
  it('refuses a sub that is a number, an object, empty or has CR/LF, and bad groups, with 401 naming the claim', async () => {
    const t = setup();
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['numeric sub', { sub: 42 }, 'sub'],
      ['object sub', { sub: { name: 'alice' } }, 'sub'],
      ['empty sub', { sub: '' }, 'sub'],
      ['CR/LF in sub', { sub: 'alice\r\nImpersonate-Group: system:masters' }, 'sub'],
      ['numeric group', { sub: 'alice', groups: ['team-a', 7] }, 'groups'],
      ['control character in a group', { sub: 'alice', groups: ['team-a\n'] }, 'groups'],
      ['object groups', { sub: 'alice', groups: { a: 1 } }, 'groups'],
    ];
    for (const [name, claims, claim] of cases) {
      const token = await issuer.mint({ subject: 'unused', claims });
      const res = await send(t, 'POST', '/api/v1/namespaces/team-a/webservices', token, intent);
      expect(res.status, name).toBe(401);
      expect(res.json, name).toMatchObject({ code: 'Unauthenticated' });
      expect(res.json.message, name).toContain(`"${claim}"`);
    }
    expect(t.writer.writes).toEqual([]);
  });

  it('property: any claim shape gets 401 or a normal answer through auth and a write, never a 5xx', async () => {
    const t = setup();
    const text = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: fc.constantFrom('a', '-', ':', '\r', '\n', '\u0000', '\u007f', '\u2028', 'é', '😀'), maxLength: 20 }),
      fc.constant('x'.repeat(300)),
    );
    const claimValue = fc.oneof(text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.oneof(text, fc.integer()), { maxLength: 5 }), fc.dictionary(fc.string({ maxLength: 5 }), text, { maxKeys: 3 }));
    await fc.assert(
      fc.asyncProperty(fc.record({ sub: claimValue, groups: claimValue }, { requiredKeys: [] }), async (claims) => {
        const token = await issuer.mint({ subject: 'unused', claims });
        for (const [method, path, body] of [
          ['GET', '/api/v1/me', undefined],
          ['POST', '/api/v1/namespaces/team-a/webservices', intent],
        ] as const) {
          const res = await send(t, method, path, token, body);
          expect(res.status, `${method} ${path} ${JSON.stringify(claims)}`).toBeLessThan(500);
          expect(res.json.code).not.toBe('Internal');
          let valid = true;
          try {
            identityFromPayload({ sub: 'unused', ...claims } as never);
          } catch {
            valid = false;
          }
          if (!valid) expect(res.status).toBe(401);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('request bodies', () => {
  it('answers 413 with {code, message} for a 20 MB body, before anything is written', async () => {
    const t = setup();
    const token = await issuer.mint({ subject: 'alice', groups: ['team-a'] });
    const big = JSON.stringify({ name: 'cart', image: 'ghcr.io/acme/cart:1.0.0', config: { BLOB: 'x'.repeat(20 * 1024 * 1024) } });
    const res = await send(t, 'POST', '/api/v1/namespaces/team-a/webservices', token, big);
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ code: 'PayloadTooLarge' });
    expect(res.json.message).toMatch(/request body exceeds the limit of \d+ bytes/);
    expect(t.writer.writes).toEqual([]);
  });

  it('maps an API server 413 to 413, not 502', () => {
    const err = kubeApiErrorFrom(413, { kind: 'Status', reason: 'RequestEntityTooLarge', message: 'etcdserver: request is too large' }, 'PATCH /apis/paved.dev/v1alpha1/namespaces/a/webservices/b');
    expect(fromKubeError(err).status).toBe(413);
    expect(fromKubeError(err).code).toBe('PayloadTooLarge');
  });

  it('shows the API server message without the internal request path', () => {
    const err = kubeApiErrorFrom(
      422,
      { kind: 'Status', reason: 'Invalid', message: 'WebService.paved.dev "shop" is invalid: spec.port: Invalid value: 0', details: { causes: [{ field: 'spec.port' }] } },
      'PATCH /apis/paved.dev/v1alpha1/namespaces/team-a/webservices/shop',
    );
    const api = fromKubeError(err);
    expect(api.message).toBe('WebService.paved.dev "shop" is invalid: spec.port: Invalid value: 0');
    expect(api.message).not.toContain('/apis/');
    expect(fromKubeError(new KubeApiError(500, 'InternalError', 'GET /api/v1/namespaces/x: 500', undefined, { statusMessage: 'failed calling https://10.0.0.1/apis/x/y' })).message).not.toContain('/apis/');
  });

  it('refuses a __proto__ config key by name instead of dropping it', async () => {
    const t = setup();
    const token = await issuer.mint({ subject: 'alice', groups: ['team-a'] });
    const res = await send(t, 'POST', '/api/v1/namespaces/team-a/webservices', token, '{"name":"cart","image":"ghcr.io/acme/cart:1","config":{"A":"1","__proto__":"x"}}');
    expect(res.status).toBe(400);
    expect(res.json.field).toBe('config.__proto__');
    expect(res.json.message).toContain('__proto__');
    expect(t.writer.writes).toEqual([]);
  });

  it('accepts the combined durations the CRD accepts ("1h30m") and names the field of a bad one', async () => {
    const t = setup();
    const token = await issuer.mint({ subject: 'alice', groups: ['team-a'] });
    const body = (d: string): string => JSON.stringify({ name: 'cart', image: 'ghcr.io/acme/cart:1', delivery: { steps: [{ setWeight: 10 }, { pause: { duration: d } }] } });
    expect((await send(t, 'POST', '/api/v1/namespaces/team-a/webservices', token, body('1h30m'))).status).toBe(201);
    const bad = await send(t, 'POST', '/api/v1/namespaces/team-a/webservices', token, body('90 minutes'));
    expect(bad.status).toBe(400);
    expect(bad.json.field).toBe('delivery.steps.1.pause.duration');
  });
});

describe('stream tickets', () => {
  it('cap each caller: minting thousands never evicts another caller’s ticket', () => {
    const store = new TicketStore(30_000, 100, () => 0, 4);
    const alice = resolveCaller('alice', [], [], roles);
    const mallory = resolveCaller('mallory', [], [], roles);
    const kept = store.issue(alice).ticket;
    let refused = 0;
    for (let i = 0; i < 5_000; i++) store.issue(mallory);
    expect(store.size()).toBe(5);
    expect(store.redeem(kept)).toBe(alice);
    // The store as a whole is bounded too, by refusing (429), not by evicting.
    const full = new TicketStore(30_000, 2, () => 0, 4);
    full.issue(alice);
    full.issue(mallory);
    try {
      full.issue(resolveCaller('carol', [], [], roles));
    } catch (err) {
      refused++;
      expect(err).toMatchObject({ status: 429, code: 'TooManyRequests' });
    }
    expect(refused).toBe(1);
  });
});

describe('stream handshakes', () => {
  async function server(): Promise<{ url: string; t: TestApp }> {
    const t = setup();
    const feed = startFeed({ sources: t.sources, hub: t.hub });
    const running = await startServer({ api: t, authMode: 'oidc', port: 0, host: '127.0.0.1', logger: t.log.logger });
    cleanups.push(async () => {
      feed.stop();
      await running.close();
    });
    return { url: running.url, t };
  }

  it('refuses an upgrade without the paved.v1 subprotocol (400) and says why in the body', async () => {
    const { url } = await server();
    const c = new StreamClient({ url, query: { team: 'team-a' }, credential: { bearer: await issuer.mint({ subject: 'alice', groups: ['team-a'] }) }, protocols: ['chat'] });
    await expect(c.opened).rejects.toThrow();
    expect(c.rejected).toBe(400);
    const body = JSON.parse((await c.rejectedBody) ?? '{}');
    expect(body).toMatchObject({ code: 'BadRequest', field: 'Sec-WebSocket-Protocol' });
    expect(body.message).toContain('paved.v1');
  });

  it('upgrades only the stream: a WebSocket request to another route gets that route\'s answer and is closed', async () => {
    const { url } = await server();
    const token = await issuer.mint({ subject: 'alice', groups: ['team-a'] });
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/me`, ['paved.v1', `bearer.${token}`]);
    const outcome = await new Promise<string>((resolve) => {
      ws.once('open', () => resolve('opened'));
      ws.once('unexpected-response', (_req, res) => resolve(`refused ${res.statusCode}`));
      ws.once('error', () => resolve('error'));
    });
    ws.terminate();
    expect(outcome).toBe('refused 200');
  });

  it('gives refused upgrades (401, 403) a {code, message} body', async () => {
    const { url } = await server();
    const forbidden = new StreamClient({ url, query: { team: 'team-b' }, credential: { bearer: await issuer.mint({ subject: 'alice', groups: ['team-a'] }) } });
    await expect(forbidden.opened).rejects.toThrow();
    expect(forbidden.rejected).toBe(403);
    expect(JSON.parse((await forbidden.rejectedBody) ?? '{}')).toMatchObject({ code: 'Forbidden', message: 'caller may not read team team-b' });
    const anonymous = new StreamClient({ url, query: { team: 'team-a' } });
    await expect(anonymous.opened).rejects.toThrow();
    expect(anonymous.rejected).toBe(401);
    expect(JSON.parse((await anonymous.rejectedBody) ?? '{}')).toMatchObject({ code: 'Unauthenticated' });
  });
});
