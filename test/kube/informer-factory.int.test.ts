/**
 * The shared informer factory against the real API server (issue 18 item 3): wired as main.ts wires it
 * (the tenancy and WebService controllers, delivery on, the API server's sources from the same caches),
 * the process opens exactly one watch per kind it reads, which the API server's audit log confirms (the
 * process runs as a ServiceAccount of its own with the RBAC of deploy/paved, and the local cluster audits
 * ServiceAccounts' watches; the API server's gauge of open watches counts every client of the shared
 * cluster, other test files included); and the
 * cache holds objects without managedFields or the last-applied annotation.
 * Only the informers run here (no reconcile touches the shared cluster's other objects).
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { pino } from 'pino';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { KubeClients, LAST_APPLIED_ANNOTATION, applyObject, createInformerFactory, type InformerFactory } from '../../src/kube/index.js';
import { createTenancyController } from '../../src/tenancy/controller.js';
import { createWebServiceController, detectCapabilities } from '../../src/webservice/reconcile.js';
import { DEFAULT_PLATFORM } from '../../src/webservice/render/index.js';
import { installControllerIdentities, type InstalledIdentities } from '../deploy/manifests.js';
import { adminKubeConfig, clusterInfo, createTestNamespace } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';

const TENANCY_CONFIG = {
  PAVED_GATEWAY_NAMESPACE: 'gateway',
  PAVED_MONITORING_NAMESPACE: 'monitoring',
  PAVED_ORPHAN_GRACE_SECONDS: 3600,
  PAVED_RESYNC_SECONDS: 600,
  PAVED_WORKERS: 2,
};

/** Watches of `user` open now, by `resource.group`, from the audit log (started minus completed). */
async function openWatches(auditLog: string, user: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await readFile(auditLog, 'utf8')).split('\n')) {
    if (!line.includes(user)) continue;
    const e = JSON.parse(line) as { verb?: string; stage?: string; user?: { username?: string }; objectRef?: { resource?: string; apiGroup?: string } };
    if (e.verb !== 'watch' || e.user?.username !== user) continue;
    const key = e.objectRef?.apiGroup ? `${e.objectRef.resource}.${e.objectRef.apiGroup}` : (e.objectRef?.resource ?? '');
    const step = e.stage === 'ResponseStarted' ? 1 : e.stage === 'ResponseComplete' || e.stage === 'Panic' ? -1 : 0;
    out.set(key, (out.get(key) ?? 0) + step);
  }
  return out;
}

let factory: InformerFactory | undefined;
let installed: InstalledIdentities | undefined;
afterAll(async () => {
  await factory?.stop();
  await installed?.remove();
});

describe('one list+watch per kind for the whole process', () => {
  it('opens as many watches as kinds it reads, as the API server counts them, with slim cached objects', async () => {
    const { auditLog, provider } = clusterInfo();
    if (provider !== 'local' || !auditLog) return; // the count needs the local cluster's audit policy
    const admin = KubeClients.fromKubeConfig(adminKubeConfig());
    const identityNs = await createTestNamespace('informer-watches');
    installed = await installControllerIdentities(admin, { namespace: identityNs, suffix: randomBytes(3).toString('hex') });
    const { clients, username: user } = installed.identities[0]!;
    const logger = pino({ level: 'silent' });
    const f = (factory = createInformerFactory({ clients, logger, resyncPeriodMs: 600_000 }));
    const capabilities = await detectCapabilities(clients);
    const tenancy = createTenancyController({ clients, config: TENANCY_CONFIG, logger, informers: f });
    const web = await createWebServiceController({
      clients, platform: DEFAULT_PLATFORM, capabilities, logger, informers: f,
      delivery: { provider: { query: () => Promise.resolve({ kind: 'noData' as const }) } },
      hostMap: { namespace: 'paved-system', name: 'paved-hosts' },
    });
    // The API server's sources are the same informers (main.ts): asking again creates nothing.
    expect(f.informer({ apiVersion: 'apps/v1', kind: 'Deployment', labelSelector: 'app.kubernetes.io/managed-by=paved' })).toBe(web.deployments);
    expect(web.informers.includes(tenancy.caches.namespaces as never)).toBe(true);
    await f.start(120_000);

    const informers = f.informers();
    const kinds = new Set(informers.map((i) => `${i.apiVersion}/${i.kind}`));
    expect(informers.length).toBe(kinds.size);
    const ours = new Map<string, number>();
    for (const i of informers) ours.set(i.resourceName, (ours.get(i.resourceName) ?? 0) + 1);
    await eventually(async () => {
      const open = await openWatches(auditLog, user);
      expect(Object.fromEntries(open)).toEqual(Object.fromEntries([...ours.keys()].map((r) => [r, 1])));
      expect([...open.values()].reduce((s, n) => s + n, 0)).toBe(kinds.size);
    }, { timeoutMs: 30_000, intervalMs: 1000 });

    // The transform on the way in: server-side apply records managedFields; kubectl's annotation is set by hand.
    const ns = await createTestNamespace('informer-slim');
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'slim', namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'paved' }, annotations: { [LAST_APPLIED_ANNOTATION]: '{"a":"b"}', keep: 'yes' } },
      data: { a: 'b' },
    } as KubernetesObject;
    await applyObject(clients, cm, { fieldManager: 'test' });
    const configMaps = f.informer({ apiVersion: 'v1', kind: 'ConfigMap', labelSelector: 'app.kubernetes.io/managed-by=paved' });
    const cached = await eventually(() => {
      const o = configMaps.getByName('slim', ns);
      expect(o).toBeDefined();
      return Promise.resolve(o as KubernetesObject);
    }, { timeoutMs: 30_000, intervalMs: 200 });
    expect(cached.metadata?.managedFields).toBeUndefined();
    expect(cached.metadata?.annotations?.[LAST_APPLIED_ANNOTATION]).toBeUndefined();
    expect(cached.metadata?.annotations?.['keep']).toBe('yes');
    const live = await clients.get<KubernetesObject>({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'slim' });
    expect(live?.metadata?.managedFields?.length).toBeGreaterThan(0);
    expect(live?.metadata?.annotations?.[LAST_APPLIED_ANNOTATION]).toBe('{"a":"b"}');
    expect(informers.length).toBe(f.informers().length); // the ConfigMap informer was one of them already
  });
});
