/**
 * The impersonating writer against a loopback HTTP server standing in for the API server: what goes
 * on the wire (one Impersonate-Group header per group, the user, the field manager, dry-run).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiError } from '../../src/kube/index.js';
import type { Caller } from '../../src/access/index.js';
import { createResourceWriter, impersonationIdentity } from '../../src/server/writer.js';
import { headerOf, startHeaderCapture, type CapturedRequest, type HeaderCapture } from '../support/header-capture.js';

let capture: HeaderCapture;
let kubeConfig: KubeConfig;
let seen: CapturedRequest[];

beforeAll(async () => {
  capture = await startHeaderCapture((req, res) => {
    if (req.url === '/apis/paved.dev/v1alpha1') {
      res.end(JSON.stringify({ resources: [{ name: 'webservices', kind: 'WebService', namespaced: true }] }));
    } else if (headerOf(req, 'impersonate-user') === 'mallory') {
      res.statusCode = 403;
      res.end(JSON.stringify({ kind: 'Status', reason: 'Forbidden', message: 'webservices.paved.dev is forbidden: User "mallory" cannot create' }));
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

describe('createResourceWriter', () => {
  it('impersonates the caller with one header per group', async () => {
    seen.length = 0;
    const writer = createResourceWriter({ kubeConfig, impersonate: true });
    await writer.create(ws, caller('alice', ['team-a', 'oncall']));
    const req = seen[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/apis/paved.dev/v1alpha1/namespaces/team-a/webservices?fieldManager=paved-api');
    expect(req.headers.filter(([k]) => k === 'impersonate-user')).toEqual([['impersonate-user', 'alice']]);
    expect(req.headers.filter(([k]) => k === 'impersonate-group').map(([, v]) => v)).toEqual(['oncall', 'team-a']);
    expect(headerOf(req, 'authorization')).toBe('Bearer controller-token');
  });

  it('applies with server-side apply (forced, field manager paved-api), dry-run on request', async () => {
    seen.length = 0;
    const writer = createResourceWriter({ kubeConfig, impersonate: true });
    await writer.apply(ws, caller('bob', ['team-b']), { dryRun: true });
    const req = seen[0]!;
    expect(req.method).toBe('PATCH');
    expect(req.url).toBe('/apis/paved.dev/v1alpha1/namespaces/team-a/webservices/shop?fieldManager=paved-api&force=true&dryRun=All');
    expect(headerOf(req, 'content-type')).toBe('application/apply-patch+yaml');
    expect(JSON.parse(req.body)).toEqual(ws);
  });

  it('keeps identities apart across cached clients, and sends none in local mode', async () => {
    seen.length = 0;
    const writer = createResourceWriter({ kubeConfig, impersonate: true });
    await writer.annotate({ namespace: 'team-a', name: 'shop' }, { 'paved.dev/rollout-action': 'pause@1' }, caller('alice', ['team-a']));
    await writer.annotate({ namespace: 'team-a', name: 'shop' }, { 'paved.dev/rollout-action': 'pause@2' }, caller('bob', ['team-b']));
    await writer.delete({ namespace: 'team-a', name: 'shop' }, caller('alice', ['team-a']));
    const users = seen.filter((s) => s.url.includes('/webservices')).map((s) => headerOf(s, 'impersonate-user'));
    expect(users).toEqual(['alice', 'bob', 'alice']);
    const local = createResourceWriter({ kubeConfig, impersonate: false });
    seen.length = 0;
    await local.create(ws, caller('local-admin', ['paved:platform-admins']));
    expect(seen[0]!.headers.some(([k]) => k.startsWith('impersonate-'))).toBe(false);
  });

  it('surfaces the API server\'s refusal as a KubeApiError', async () => {
    const writer = createResourceWriter({ kubeConfig, impersonate: true });
    const err = await writer.create(ws, caller('mallory', [])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).statusCode).toBe(403);
  });
});

describe('impersonationIdentity', () => {
  const caller = (subject: string, groups: string[]): Caller => ({
    subject, groups, teams: [], isPlatformAdmin: false, isFinance: false,
  });

  it('never lets a token reach a reserved Kubernetes identity', () => {
    expect(impersonationIdentity(caller('system:admin', ['system:masters', 'team-a', 'system:nodes']))).toEqual({
      user: 'oidc:system:admin',
      groups: ['team-a'],
    });
  });

  it('keeps ordinary users and groups as they are', () => {
    expect(impersonationIdentity(caller('alice', ['team-b', 'team-a']))).toEqual({ user: 'alice', groups: ['team-a', 'team-b'] });
  });
});
