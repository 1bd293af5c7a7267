import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { KubeClients, impersonatingKubeConfig, serviceAccountUser } from '../../src/kube/client.js';

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', skipTLSVerify: true }],
    users: [{ name: 'admin', token: 'secret-token' }, { name: 'other', token: 'x' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'admin' }],
    currentContext: 'ctx',
  });
  return kc;
}

describe('impersonation', () => {
  it('copies the kubeconfig with impersonateUser on the current user only; the original is untouched', async () => {
    const kc = kubeConfig();
    const user = serviceAccountUser('team-a', 'paved-deployer');
    expect(user).toBe('system:serviceaccount:team-a:paved-deployer');
    const copy = impersonatingKubeConfig(kc, user);
    expect(copy.getCurrentUser()).toMatchObject({ name: 'admin', token: 'secret-token', impersonateUser: user });
    expect(copy.users.find((u) => u.name === 'other')?.impersonateUser).toBeUndefined();
    expect(kc.getCurrentUser()?.impersonateUser).toBeUndefined();

    // The watch path (applyToFetchOptions) sends the header with the original credentials.
    const opts = await copy.applyToFetchOptions({});
    const headers = opts.headers as unknown as Headers;
    expect(headers.get('Impersonate-User')).toBe(user);
    expect(headers.get('Authorization')).toBe('Bearer secret-token');
    const plain = (await kc.applyToFetchOptions({})).headers as unknown as Headers;
    expect(plain.get('Impersonate-User')).toBeNull();
  });

  it('caches impersonating bundles per user and shares the counter', () => {
    const clients = KubeClients.fromKubeConfig(kubeConfig());
    const a = clients.impersonate('system:serviceaccount:a:paved-deployer');
    expect(clients.impersonate('system:serviceaccount:a:paved-deployer')).toBe(a);
    expect(clients.impersonate('system:serviceaccount:b:paved-deployer')).not.toBe(a);
    expect(a.counter).toBe(clients.counter);
    expect(a.identity).toBe('system:serviceaccount:a:paved-deployer');
    expect(clients.identity).toBeUndefined();
  });
});
