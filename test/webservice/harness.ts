/**
 * Integration harness: a team namespace with its `paved-deployer` (ServiceAccount, Role with the tenancy
 * renderer's DEPLOYER_RULES, RoleBinding, exactly what tenancy provisions) and a WebService controller
 * scoped to that namespace, running as the admin identity and writing as the impersonated deployer.
 */
import { pino } from 'pino';
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeClients, applyObject } from '../../src/kube/index.js';
import { DEPLOYER_RULES } from '../../src/tenancy/render.js';
import {
  DEFAULT_PLATFORM,
  createWebServiceController,
  type PlatformConfig,
  type WebService,
  type WebServiceController,
  type WebServiceControllerOptions,
} from '../../src/webservice/index.js';
import { adminKubeConfig, createTestNamespace } from '../support/cluster.js';

export function adminClients(): KubeClients {
  return KubeClients.fromKubeConfig(adminKubeConfig());
}

/** A namespace labelled for a team, with the deployer tenancy would create. */
export async function createTeamNamespace(prefix: string, team = 'team-int'): Promise<string> {
  const ns = await createTestNamespace(prefix, { 'paved.dev/team': team });
  const admin = adminClients();
  const meta = { name: 'paved-deployer', namespace: ns };
  await applyObject(admin, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta });
  await applyObject(admin, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta, rules: DEPLOYER_RULES } as KubernetesObject);
  await applyObject(admin, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: meta,
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'paved-deployer' },
    subjects: [{ kind: 'ServiceAccount', name: 'paved-deployer', namespace: ns }],
  } as KubernetesObject);
  return ns;
}

export interface RunningController extends WebServiceController {
  clients: KubeClients;
  stop(): Promise<void>;
}

/** Starts a WebService controller watching one namespace. */
export function startController(namespace: string, platform: Partial<PlatformConfig> = {}): Promise<RunningController> {
  return startWebServiceController({ namespace, platform: { ...DEFAULT_PLATFORM, ...platform }, workers: 4 });
}

/**
 * Starts a WebService controller as the admin with `opts` (a namespace, or a label selector for a
 * cluster-wide controller limited to one file's objects), its extra controllers included, synced.
 */
export async function startWebServiceController(opts: Partial<WebServiceControllerOptions>): Promise<RunningController> {
  const clients = opts.clients ?? adminClients();
  const wc = await createWebServiceController({
    platform: DEFAULT_PLATFORM,
    workers: 2,
    notReadyRequeueMs: 2_000,
    logger: pino({ level: 'warn' }),
    ...opts,
    clients,
  });
  await Promise.all(wc.informers.map((i) => i.start()));
  await Promise.all(wc.informers.map((i) => i.waitForSync(60_000)));
  wc.controller.start();
  for (const c of wc.extraControllers) c.start();
  return {
    ...wc,
    clients,
    async stop() {
      for (const c of wc.extraControllers) await c.stop({ drainTimeoutMs: 5_000 });
      await wc.controller.stop({ drainTimeoutMs: 5_000 });
      await Promise.all(wc.informers.map((i) => i.stop()));
      wc.dispose();
    },
  };
}

/**
 * Creates or replaces a WebService with server-side apply as the field manager `developer`, like a
 * developer's kubectl apply: its name, namespace, labels (when it has any) and spec, nothing else of its
 * metadata. As the admin, or as `clients` (another identity, e.g. an impersonated team member; a refusal
 * rejects with the API server's error).
 */
export async function applyWebService(ws: Pick<WebService, 'metadata' | 'spec'>, opts: { clients?: KubeClients } = {}): Promise<void> {
  const { name, namespace, labels } = ws.metadata ?? {};
  await (opts.clients ?? adminClients()).request({
    method: 'PATCH',
    path: `/apis/paved.dev/v1alpha1/namespaces/${namespace}/webservices/${name}`,
    query: { fieldManager: 'developer', force: true },
    body: { apiVersion: 'paved.dev/v1alpha1', kind: 'WebService', metadata: { name, namespace, ...(labels ? { labels } : {}) }, spec: ws.spec },
    contentType: 'application/apply-patch+yaml',
  });
}

export async function getWebService(ns: string, name: string): Promise<WebService> {
  const ws = await adminClients().get<WebService & KubernetesObject>({ apiVersion: 'paved.dev/v1alpha1', kind: 'WebService', namespace: ns, name });
  if (!ws) throw new Error(`WebService ${ns}/${name} not found`);
  return ws;
}

export async function getObject<T = any>(apiVersion: string, kind: string, ns: string, name: string): Promise<T | undefined> {
  return (await adminClients().get({ apiVersion, kind, namespace: ns, name })) as T | undefined;
}

/** The condition of a type on a WebService (or on nothing yet: undefined). */
export function condition(ws: Pick<WebService, 'status'> | undefined, type: string): { status: string; reason: string; message: string } | undefined {
  return ws?.status?.conditions?.find((c) => c.type === type);
}
