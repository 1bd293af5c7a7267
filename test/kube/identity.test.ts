/**
 * The identity module against a loopback HTTP server standing in for the API server: what goes on the
 * wire for a typed client, the generic object client, KubeClients' raw requests and a watch (one
 * Impersonate-User, one Impersonate-Group per group, the original credentials), and the bounded cache.
 */
import { CoreV1Api, KubeConfig, KubernetesObjectApi, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IdentityCache,
  ImpersonatingKubeConfig,
  KubeClients,
  identityKey,
  impersonationHeaders,
  normalizeIdentity,
} from '../../src/kube/index.js';
import { headerOf, startHeaderCapture, type CapturedRequest, type HeaderCapture } from '../support/header-capture.js';

let capture: HeaderCapture;
let kubeConfig: KubeConfig;
let seen: CapturedRequest[];

beforeAll(async () => {
  capture = await startHeaderCapture((req, res) => {
    if (req.url.startsWith('/api/v1/namespaces/x/configmaps?watch=true')) {
      res.end(`${JSON.stringify({ type: 'ADDED', object: { kind: 'ConfigMap', metadata: { name: 'a' } } })}\n`);
    } else if (req.url === '/api/v1') {
      res.end(JSON.stringify({ resources: [{ name: 'configmaps', kind: 'ConfigMap', namespaced: true }] }));
    } else {
      res.end(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMapList', metadata: {}, items: [] }));
    }
  });
  ({ kubeConfig, seen } = capture);
});
afterAll(async () => {
  await capture.stop();
});

const identity = { user: 'alice', groups: ['team-b', 'team-a', 'team-b'] };

/** The impersonation and auth headers of the last request whose URL starts with `prefix`. */
function lastHeaders(prefix: string): { impersonation: Array<[string, string]>; auth: string | undefined } {
  const req = [...seen].reverse().find((s) => s.url.startsWith(prefix));
  if (!req) throw new Error(`no request to ${prefix}`);
  return {
    impersonation: req.headers.filter(([k]) => k.startsWith('impersonate-')),
    auth: headerOf(req, 'authorization'),
  };
}

const expected: Array<[string, string]> = [
  ['impersonate-user', 'alice'],
  ['impersonate-group', 'team-a'],
  ['impersonate-group', 'team-b'],
];

describe('impersonationHeaders', () => {
  it('one user header and one header per group, groups de-duplicated and sorted', () => {
    expect(impersonationHeaders(identity)).toEqual([
      ['Impersonate-User', 'alice'],
      ['Impersonate-Group', 'team-a'],
      ['Impersonate-Group', 'team-b'],
    ]);
    expect(impersonationHeaders('system:serviceaccount:a:paved-deployer')).toEqual([['Impersonate-User', 'system:serviceaccount:a:paved-deployer']]);
    expect(identityKey({ user: 'a', groups: ['y', 'x'] })).toBe(identityKey({ user: 'a', groups: ['x', 'y', 'x'] }));
    expect(identityKey({ user: 'a', groups: ['x'] })).not.toBe(identityKey({ user: 'a' }));
  });

  it('refuses an empty user or group, naming the field', () => {
    expect(() => normalizeIdentity({ user: '' })).toThrow('identity.user: must be a non-empty string');
    expect(() => normalizeIdentity({ user: 'a', groups: ['x', ' '] })).toThrow('identity.groups[1]: must be a non-empty string');
  });
});

describe('ImpersonatingKubeConfig on the wire', () => {
  it('a typed client sends the user and every group with the original credentials', async () => {
    await new ImpersonatingKubeConfig(kubeConfig, identity).makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: 'x' });
    expect(lastHeaders('/api/v1/namespaces/x/configmaps')).toEqual({ impersonation: expected, auth: 'Bearer controller-token' });
  });

  it('the generic object client does too', async () => {
    await KubernetesObjectApi.makeApiClient(new ImpersonatingKubeConfig(kubeConfig, identity)).list('v1', 'ConfigMap', 'x');
    expect(lastHeaders('/api/v1/namespaces/x/configmaps')).toEqual({ impersonation: expected, auth: 'Bearer controller-token' });
  });

  it('a watch does too', async () => {
    const events: string[] = [];
    await new Promise<void>((resolve, reject) => {
      void new Watch(new ImpersonatingKubeConfig(kubeConfig, identity))
        .watch('/api/v1/namespaces/x/configmaps', {}, (phase) => events.push(phase), (err: unknown) => (err ? reject(err as Error) : resolve()))
        .catch(reject);
    });
    expect(events).toEqual(['ADDED']);
    expect(lastHeaders('/api/v1/namespaces/x/configmaps?watch=true')).toEqual({ impersonation: expected, auth: 'Bearer controller-token' });
  });

  it('KubeClients.impersonate: raw requests and the object client carry the identity; the root carries none', async () => {
    const root = KubeClients.fromKubeConfig(kubeConfig);
    const alice = root.impersonate(identity);
    await alice.list('v1', 'ConfigMap', { namespace: 'x' });
    expect(lastHeaders('/api/v1/namespaces/x/configmaps')).toEqual({ impersonation: expected, auth: 'Bearer controller-token' });
    await alice.objects.list('v1', 'ConfigMap', 'x');
    expect(lastHeaders('/api/v1/namespaces/x/configmaps')).toEqual({ impersonation: expected, auth: 'Bearer controller-token' });
    await root.list('v1', 'ConfigMap', { namespace: 'x' });
    expect(lastHeaders('/api/v1/namespaces/x/configmaps').impersonation).toEqual([]);
    expect(alice.impersonation).toEqual({ user: 'alice', groups: ['team-a', 'team-b'] });
    expect(root.impersonation).toBeUndefined();
  });

  it('impersonating from an impersonating kubeconfig replaces the identity, never adds to it', async () => {
    const twice = new ImpersonatingKubeConfig(new ImpersonatingKubeConfig(kubeConfig, { user: 'mallory', groups: ['system:masters'] }), { user: 'bob' });
    await twice.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: 'x' });
    expect(lastHeaders('/api/v1/namespaces/x/configmaps').impersonation).toEqual([['impersonate-user', 'bob']]);
    expect(kubeConfig.getCurrentUser()?.impersonateUser).toBeUndefined();
  });
});

describe('IdentityCache', () => {
  it('is bounded and evicts the least recently used identity', () => {
    const cache = new IdentityCache<{ id: string }>({ max: 2 });
    let built = 0;
    const make = (id: { user: string }) => ({ id: `${id.user}#${++built}` });
    const a = cache.get({ user: 'a', groups: ['g'] }, make);
    cache.get('b', make);
    expect(cache.get({ user: 'a', groups: ['g', 'g'] }, make)).toBe(a); // same identity, a hit; a is now newest
    cache.get('c', make); // evicts b, the least recently used
    expect(cache.size).toBe(2);
    expect(cache.has('b')).toBe(false);
    expect(cache.has({ user: 'a', groups: ['g'] })).toBe(true);
    expect(built).toBe(3);
    cache.delete('c');
    expect(cache.has('c')).toBe(false);
    expect(() => new IdentityCache({ max: 0 })).toThrow('max: must be a positive integer');
  });

  it('KubeClients keeps at most maxIdentities impersonating bundles, sharing the counter', () => {
    const root = KubeClients.fromKubeConfig(kubeConfig, { maxIdentities: 2 });
    const a = root.impersonate({ user: 'a', groups: ['x', 'y'] });
    expect(root.impersonate({ user: 'a', groups: ['y', 'x'] })).toBe(a);
    root.impersonate('b');
    root.impersonate('c');
    expect(root.impersonate({ user: 'a', groups: ['x', 'y'] })).not.toBe(a);
    expect(a.counter).toBe(root.counter);
    root.forgetImpersonation('c');
  });
});
