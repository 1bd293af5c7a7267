/**
 * Host ownership on the real API server, tried as the hostile team: team B publishes team A's host,
 * and a host outside its declared domains (the namespace annotation paved.dev/domains, which the tenancy
 * controller copies from Team spec.domains). Both are refused by the controller's host-ownership policy
 * with the field and the reason; A's HTTPRoute keeps its resourceVersion and B gets no route. The
 * controller's preview (what the API's preview route serves) refuses the same before anything is applied.
 * One cluster-wide WebService controller, limited to this file's WebServices by a label.
 */
import { randomBytes } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClients } from '../../src/kube/index.js';
import type { WebService, WebServiceSpec } from '../../src/webservice/index.js';
import { eventually } from '../support/eventually.js';
import { adminClients, applyWebService, condition, createTeamNamespace, type RunningController, startWebServiceController } from './harness.js';

const RUN_LABEL = 'paved.dev/test-run';
const run = `hosts-${randomBytes(3).toString('hex')}`;
const admin = adminClients();
let nsA = '';
let nsB = '';
let wc: RunningController | undefined;

type AnyObj = KubernetesObject & Record<string, any>;

/** This file's WebServices carry the run label the controller is limited to. */
const apply = (namespace: string, name: string, spec: Record<string, unknown>, clients: KubeClients = admin): Promise<void> =>
  applyWebService({ metadata: { name, namespace, labels: { [RUN_LABEL]: run } }, spec: spec as WebServiceSpec }, { clients });

const routeOf = (ns: string, name: string): Promise<AnyObj | undefined> =>
  admin.get<AnyObj>({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', namespace: ns, name });
const webService = (ns: string, name: string): Promise<WebService | undefined> =>
  admin.get<WebService & KubernetesObject>({ apiVersion: 'paved.dev/v1alpha1', kind: 'WebService', namespace: ns, name });

beforeAll(async () => {
  nsA = await createTeamNamespace('hosts-a', 'team-a');
  nsB = await createTeamNamespace('hosts-b', 'team-b');
  await admin.request({ method: 'PATCH', path: `/api/v1/namespaces/${nsB}`, contentType: 'application/merge-patch+json', body: { metadata: { annotations: { 'paved.dev/domains': 'b.example.com' } } } });
  wc = await startWebServiceController({ selector: `${RUN_LABEL}=${run}` });
});

afterAll(async () => {
  await wc?.stop();
});

describe('host ownership', () => {
  it('refuses team B a host team A serves and a host outside its domains; A keeps its route', async () => {
    const host = `shop.${run}.example.com`;
    const publicOn = (h: string) => ({ image: 'ghcr.io/acme/shop:1.0.0', networking: { visibility: 'public', host: h } });
    await apply(nsA, 'shop', publicOn(host));
    const routeA = await eventually(async () => {
      const r = await routeOf(nsA, 'shop');
      expect(r?.spec?.hostnames).toEqual([host]);
      return r!;
    }, { timeoutMs: 60_000 });

    // The API's preview is the controller's: it refuses the taken host before anything is applied.
    const preview = wc!.preview({ apiVersion: 'paved.dev/v1alpha1', kind: 'WebService', metadata: { name: 'copycat', namespace: nsB }, spec: publicOn(host) } as WebService);
    expect(preview.policy.allowed).toBe(false);
    expect(preview.policy.violations).toContainEqual(expect.objectContaining({ policy: 'host-ownership', object: 'HTTPRoute/copycat', message: expect.stringContaining(`host ${host} is already served by team team-a`) }));

    await apply(nsB, 'copycat', publicOn(host));
    const taken = await eventually(async () => {
      const c = condition(await webService(nsB, 'copycat'), 'PolicyViolation');
      expect(c).toMatchObject({ status: 'True' });
      return c!;
    }, { timeoutMs: 60_000 });
    expect(taken.message).toContain(`host-ownership: HTTPRoute/copycat spec.hostnames[0]: host ${host} is already served by team team-a`);
    expect(taken.message).toContain('outside the team\'s domains (b.example.com; Team spec.domains)');
    expect(await routeOf(nsB, 'copycat')).toBeUndefined();
    expect((await routeOf(nsA, 'shop'))?.metadata?.resourceVersion).toBe(routeA.metadata?.resourceVersion);

    // Inside its own domains team B publishes fine.
    await apply(nsB, 'mine', publicOn(`mine.b.example.com`));
    await eventually(async () => expect((await routeOf(nsB, 'mine'))?.spec?.hostnames).toEqual(['mine.b.example.com']), { timeoutMs: 60_000 });
  });

  it('refuses an extra manifest that would overwrite an object another WebService controls', async () => {
    await apply(nsA, 'owner', { image: 'ghcr.io/acme/owner:1.0.0' });
    const deployment = (): Promise<AnyObj | undefined> => admin.get<AnyObj>({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: nsA, name: 'owner' });
    const before = await eventually(async () => {
      const d = await deployment();
      expect(d).toBeDefined();
      return d!;
    }, { timeoutMs: 60_000 });
    await apply(nsA, 'thief', {
      image: 'ghcr.io/acme/thief:1.0.0',
      advanced: { extraManifests: [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'owner' }, spec: { replicas: 0, selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'x', image: 'ghcr.io/acme/x:1' }] } } } }] },
    });
    const violation = await eventually(async () => {
      const ws = await webService(nsA, 'thief');
      expect(condition(ws, 'PolicyViolation')).toMatchObject({ status: 'True' });
      const v = (ws?.status?.policy?.violations ?? []).find((x: { policy: string }) => x.policy === 'no-foreign-objects');
      expect(v).toBeDefined();
      return v;
    }, { timeoutMs: 60_000 });
    expect(violation).toMatchObject({ object: 'Deployment/owner', field: 'metadata.name', message: 'Deployment/owner is controlled by WebService owner; a WebService may not apply it', mode: 'enforce' });
    // The owner's Deployment keeps its own spec (its status, and replicas under the HPA, keep moving as
    // pods start, so not its resourceVersion): the thief's image, selector and replicas never landed.
    const after = await deployment();
    expect(after?.spec?.template?.spec?.containers?.map((c: { image: string }) => c.image)).toEqual(before.spec?.template?.spec?.containers?.map((c: { image: string }) => c.image));
    expect(after?.spec?.selector).toEqual(before.spec?.selector);
    expect(after?.spec?.replicas).not.toBe(0);
  });
});
