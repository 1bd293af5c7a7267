/**
 * Cross-team dependencies on the real API server, tried as the hostile team: team B's WebService lists
 * team A's service in networking.dependencies. Without A's consent, A's NetworkPolicy stays exactly as
 * it was (same resourceVersion, no ingress from B) and B's WebService says which dependency was refused
 * and why; team B cannot grant itself consent (RBAC refuses the write on A's WebService). Once A lists
 * team B in spec.networking.allowedCallers, A's policy admits B's pods and B's condition turns True.
 * One cluster-wide WebService controller, limited to this file's WebServices by a label.
 */
import { randomBytes } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImpersonatingKubeConfig, KubeClients, toKubeApiError } from '../../src/kube/index.js';
import type { WebService, WebServiceSpec } from '../../src/webservice/index.js';
import { adminKubeConfig } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { adminClients, applyWebService, condition, createTeamNamespace, type RunningController, startWebServiceController } from './harness.js';

const RUN_LABEL = 'paved.dev/test-run';
const run = `consent-${randomBytes(3).toString('hex')}`;
const admin = adminClients();
let nsA = '';
let nsB = '';
let wc: RunningController | undefined;

type AnyObj = KubernetesObject & Record<string, any>;

/** This file's WebServices carry the run label the controller is limited to. */
const apply = (namespace: string, name: string, spec: Record<string, unknown>, clients: KubeClients = admin): Promise<void> =>
  applyWebService({ metadata: { name, namespace, labels: { [RUN_LABEL]: run } }, spec: spec as WebServiceSpec }, { clients });

const policyOf = (ns: string, name: string): Promise<AnyObj | undefined> =>
  admin.get<AnyObj>({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', namespace: ns, name });
const webService = (ns: string, name: string): Promise<WebService | undefined> =>
  admin.get<WebService & KubernetesObject>({ apiVersion: 'paved.dev/v1alpha1', kind: 'WebService', namespace: ns, name });
const ingressNamespaces = (np: AnyObj | undefined): string[] =>
  (np?.spec?.ingress ?? []).flatMap((r: any) => (r.from ?? []).map((p: any) => p.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'])).filter(Boolean);

beforeAll(async () => {
  nsA = await createTeamNamespace('consent-a', 'team-a');
  nsB = await createTeamNamespace('consent-b', 'team-b');
  wc = await startWebServiceController({ selector: `${RUN_LABEL}=${run}` });
});

afterAll(async () => {
  await wc?.stop();
});

describe('cross-team dependencies need the callee’s consent', () => {
  it('refuses team B’s dependency on team A’s service until A allows team B', async () => {
    await apply(nsA, 'shop', { image: 'ghcr.io/acme/shop:1.0.0' });
    const closed = await eventually(async () => {
      const np = await policyOf(nsA, 'shop');
      expect(np).toBeDefined();
      expect(condition(await webService(nsA, 'shop'), 'Ready')).toBeDefined();
      return np!;
    }, { timeoutMs: 60_000 });

    await apply(nsB, 'client', { image: 'ghcr.io/acme/client:1.0.0', networking: { dependencies: [{ service: 'shop', namespace: nsA }] } });
    const refused = await eventually(async () => {
      const c = condition(await webService(nsB, 'client'), 'DependenciesAllowed');
      expect(c).toMatchObject({ status: 'False', reason: 'DependencyNotAllowed' });
      return c!;
    }, { timeoutMs: 60_000 });
    expect(refused.message).toContain('spec.networking.dependencies[0]');
    expect(refused.message).toContain(`${nsA}/shop (team team-a)`);
    expect(refused.message).toContain('spec.networking.allowedCallers');
    // Team A's service was reconciled again (the dependency index names it) and its policy did not move.
    const after = await policyOf(nsA, 'shop');
    expect(after?.metadata?.resourceVersion).toBe(closed.metadata?.resourceVersion);
    expect(ingressNamespaces(after)).not.toContain(nsB);

    // Team B cannot consent on A's behalf: straight at the API server as a team-b member.
    const asBob = KubeClients.fromKubeConfig(new ImpersonatingKubeConfig(adminKubeConfig(), { user: 'bob', groups: ['team-b'] }));
    const err = await apply(nsA, 'shop', { image: 'ghcr.io/acme/shop:1.0.0', networking: { allowedCallers: [{ team: 'team-b' }] } }, asBob).catch((e: unknown) => e);
    expect(toKubeApiError(err)?.statusCode).toBe(403);
    expect((await policyOf(nsA, 'shop'))?.metadata?.resourceVersion).toBe(closed.metadata?.resourceVersion);

    // Team A consents: its policy admits team B's caller, and the caller's condition clears.
    await apply(nsA, 'shop', { image: 'ghcr.io/acme/shop:1.0.0', networking: { allowedCallers: [{ team: 'team-b' }] } });
    await eventually(async () => expect(ingressNamespaces(await policyOf(nsA, 'shop'))).toContain(nsB), { timeoutMs: 60_000 });
    await eventually(async () => expect(condition(await webService(nsB, 'client'), 'DependenciesAllowed')).toMatchObject({ status: 'True' }), { timeoutMs: 60_000 });
  });

  it('the CRD refuses an allowed caller that names both or neither of team and namespace', async () => {
    const err = await apply(nsA, 'bad', { image: 'ghcr.io/acme/shop:1.0.0', networking: { allowedCallers: [{ team: 'x', namespace: 'y' }] } }).catch((e: unknown) => e);
    expect(toKubeApiError(err)?.statusCode).toBe(422);
    expect(toKubeApiError(err)?.message).toContain('spec.networking.allowedCallers[0]');
    expect(toKubeApiError(err)?.message).toContain('exactly one of team or namespace');

    // __proto__ config keys are refused by name (JavaScript readers would drop them silently).
    const proto = await apply(nsA, 'proto', { image: 'ghcr.io/acme/shop:1.0.0', config: JSON.parse('{"A":"1","__proto__":"x"}') }).catch((e: unknown) => e);
    expect(toKubeApiError(proto)?.statusCode).toBe(422);
    expect(toKubeApiError(proto)?.message).toContain('spec.config');
    expect(toKubeApiError(proto)?.message).toContain('__proto__');
  });
});
