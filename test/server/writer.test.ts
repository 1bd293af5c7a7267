/**
 * The writer against a loopback HTTP server standing in for the API server: what goes on the wire.
 * With OIDC every write is first a SubjectAccessReview for the caller (user, groups without `system:`
 * ones from the token, plus system:authenticated; the write's exact verb, resource, namespace and name),
 * then, when allowed, the write itself impersonating the namespace's paved-deployer (no caller groups
 * in any header); a denial is a 403 in the API server's words and nothing is written. Local mode writes
 * with the server's own credentials. Against the real API server: test/server/writer.int.test.ts.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiError } from '../../src/kube/index.js';
import type { Caller } from '../../src/access/index.js';
import { callerIdentity, createResourceWriter } from '../../src/server/writer.js';
import { headerOf, startHeaderCapture, type CapturedRequest, type HeaderCapture } from '../support/header-capture.js';

const SAR_PATH = '/apis/authorization.k8s.io/v1/subjectaccessreviews';
let capture: HeaderCapture;
let kubeConfig: KubeConfig;
let seen: CapturedRequest[];
/** Live objects of the fake API server (`ns/name`), for the apply-creates case. */
const existing = new Set<string>(['team-a/shop']);

/** The fake authorizer: mallory may nothing, carol may patch but not create, everyone else may all. */
function decide(spec: { user: string; resourceAttributes: { verb: string } }): Record<string, unknown> {
  if (spec.user === 'mallory') return { allowed: false, reason: 'no RBAC policy matched' };
  if (spec.user === 'carol' && spec.resourceAttributes.verb === 'create') return { allowed: false };
  return { allowed: true, reason: 'RBAC: allowed' };
}

beforeAll(async () => {
  capture = await startHeaderCapture((req, res) => {
    const path = req.url.split('?')[0] ?? '';
    if (req.method === 'POST' && path === SAR_PATH) {
      const review = JSON.parse(req.body) as { spec: Parameters<typeof decide>[0] };
      res.statusCode = 201;
      res.end(JSON.stringify({ ...review, status: decide(review.spec) }));
    } else if (path === '/apis/paved.dev/v1alpha1') {
      res.end(JSON.stringify({ resources: [{ name: 'webservices', kind: 'WebService', namespaced: true }] }));
    } else if (req.method === 'GET') {
      const [, ns, name] = /namespaces\/([^/]+)\/webservices\/([^/?]+)/.exec(req.url) ?? [];
      if (existing.has(`${ns}/${name}`)) res.end(JSON.stringify({ apiVersion: 'paved.dev/v1alpha1', kind: 'WebService', metadata: { name, namespace: ns } }));
      else {
        res.statusCode = 404;
        res.end(JSON.stringify({ kind: 'Status', reason: 'NotFound', code: 404, message: 'not found' }));
      }
    } else {
      res.statusCode = req.method === 'POST' ? 201 : 200;
      res.end(req.body || JSON.stringify({ kind: 'Status', status: 'Success' }));
    }
  });
  ({ kubeConfig, seen } = capture);
});
afterAll(async () => {
  await capture.stop();
});

const caller = (subject: string, groups: string[]): Caller => ({ subject, groups, teams: [], isPlatformAdmin: false, isFinance: false });
const ws = { apiVersion: 'paved.dev/v1alpha1', kind: 'WebService', metadata: { name: 'shop', namespace: 'team-a' }, spec: { image: 'x:1' } };
const reviews = () => seen.filter((s) => s.url === SAR_PATH).map((s) => (JSON.parse(s.body) as { spec: unknown }).spec);
const writes = () => seen.filter((s) => s.url.includes('/webservices') && s.method !== 'GET');
const deployerOf = (ns: string) => `system:serviceaccount:${ns}:paved-deployer`;

describe('createResourceWriter (OIDC: review, then write as the deployer)', () => {
  it('asks about the caller with the exact write, then creates as the namespace deployer with no caller groups', async () => {
    seen.length = 0;
    const writer = createResourceWriter({ kubeConfig, reviewCallers: true });
    await writer.create(ws, caller('alice', ['team-a', 'oncall', 'system:masters']));
    expect(reviews()).toEqual([
      {
        user: 'alice',
        groups: ['oncall', 'system:authenticated', 'team-a'],
        resourceAttributes: { verb: 'create', group: 'paved.dev', version: 'v1alpha1', resource: 'webservices', namespace: 'team-a' },
      },
    ]);
    expect(headerOf(seen[0]!, 'impersonate-user')).toBeUndefined(); // the review goes out as the server itself
    const [req] = writes();
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/apis/paved.dev/v1alpha1/namespaces/team-a/webservices?fieldManager=paved-api');
    expect(req?.headers.filter(([k]) => k.startsWith('impersonate-'))).toEqual([['impersonate-user', deployerOf('team-a')]]);
    expect(headerOf(req!, 'authorization')).toBe('Bearer controller-token');
  });

  it('applies with server-side apply (forced, field manager paved-api), dry-run on request, after reviewing patch and create', async () => {
    seen.length = 0;
    const writer = createResourceWriter({ kubeConfig, reviewCallers: true });
    await writer.apply(ws, caller('bob', ['team-a']), { dryRun: true });
    // Both asked at once (in either order).
    expect(reviews().map((r: any) => `${r.resourceAttributes.verb} ${r.resourceAttributes.name ?? '(collection)'}`).sort()).toEqual(['create (collection)', 'patch shop']);
    const [req] = writes();
    expect(req?.method).toBe('PATCH');
    expect(req?.url).toBe('/apis/paved.dev/v1alpha1/namespaces/team-a/webservices/shop?fieldManager=paved-api&force=true&dryRun=All');
    expect(headerOf(req!, 'content-type')).toBe('application/apply-patch+yaml');
    expect(headerOf(req!, 'impersonate-user')).toBe(deployerOf('team-a'));
    expect(JSON.parse(req!.body)).toEqual(ws);
  });

  it('an apply needs create only when it would create the object', async () => {
    const writer = createResourceWriter({ kubeConfig, reviewCallers: true });
    seen.length = 0;
    await writer.apply(ws, caller('carol', ['team-a'])); // team-a/shop exists: patch is enough
    expect(writes()).toHaveLength(1);
    seen.length = 0;
    const fresh = { ...ws, metadata: { name: 'cart', namespace: 'team-a' } };
    const err = await writer.apply(fresh, caller('carol', ['team-a'])).catch((e: unknown) => e);
    expect((err as KubeApiError).statusCode).toBe(403);
    expect((err as KubeApiError).statusMessage).toBe(
      'webservices.paved.dev is forbidden: User "carol" cannot create resource "webservices" in API group "paved.dev" in the namespace "team-a"',
    );
    expect(writes()).toEqual([]);
  });

  it('reviews each write for its own caller and namespace: annotate and delete by name', async () => {
    seen.length = 0;
    const writer = createResourceWriter({ kubeConfig, reviewCallers: true });
    await writer.annotate({ namespace: 'team-a', name: 'shop' }, { 'paved.dev/rollout-action': 'pause@1' }, caller('alice', ['team-a']));
    await writer.annotate({ namespace: 'team-b', name: 'shop' }, { 'paved.dev/rollout-action': 'pause@2' }, caller('bob', ['team-b']));
    await writer.delete({ namespace: 'team-a', name: 'shop' }, caller('alice', ['team-a']));
    expect(reviews().map((r: any) => [r.user, r.resourceAttributes.verb, r.resourceAttributes.namespace, r.resourceAttributes.name])).toEqual([
      ['alice', 'patch', 'team-a', 'shop'],
      ['bob', 'patch', 'team-b', 'shop'],
      ['alice', 'delete', 'team-a', 'shop'],
    ]);
    expect(writes().map((s) => headerOf(s, 'impersonate-user'))).toEqual([deployerOf('team-a'), deployerOf('team-b'), deployerOf('team-a')]);
  });

  it('a denied review is a 403 in the API server\'s words, with the reason, and nothing is written', async () => {
    seen.length = 0;
    const writer = createResourceWriter({ kubeConfig, reviewCallers: true });
    const err = await writer.annotate({ namespace: 'team-a', name: 'shop' }, { a: 'b' }, caller('mallory', ['team-a'])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).statusCode).toBe(403);
    expect((err as KubeApiError).statusMessage).toBe(
      'webservices.paved.dev "shop" is forbidden: User "mallory" cannot patch resource "webservices" in API group "paved.dev" in the namespace "team-a": no RBAC policy matched',
    );
    expect(writes()).toEqual([]);
  });
});

describe('createResourceWriter (local mode)', () => {
  it('writes with the server\'s own credentials: no review, no impersonation', async () => {
    const local = createResourceWriter({ kubeConfig, reviewCallers: false });
    seen.length = 0;
    await local.create(ws, caller('local-admin', ['paved:platform-admins']));
    expect(reviews()).toEqual([]);
    expect(seen[0]!.headers.some(([k]) => k.startsWith('impersonate-'))).toBe(false);
  });
});

describe('callerIdentity', () => {
  it('never lets a token reach a reserved Kubernetes identity', () => {
    expect(callerIdentity(caller('system:admin', ['system:masters', 'team-a', 'system:nodes']))).toEqual({
      user: 'oidc:system:admin',
      groups: ['team-a'],
    });
  });

  it('keeps ordinary users and groups as they are', () => {
    expect(callerIdentity(caller('alice', ['team-b', 'team-a']))).toEqual({ user: 'alice', groups: ['team-a', 'team-b'] });
  });
});
