/**
 * An integration stack for rollout tests: the WebService controller with delivery on (its rollout step
 * plans each rollout in the same reconcile), over a shared informer factory as main.ts wires it, scoped
 * to one test namespace, on
 * the shared real cluster and a real Prometheus scraping a traffic emitter that plays the service's
 * pods (one series per track).
 */
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { pino } from 'pino';
import { createPrometheusProvider, type MetricsProvider } from '../../src/analysis/prometheus-provider.js';
import type { RolloutState } from '../../src/delivery/types.js';
import { KubeClients, createInformer, createInformerFactory, createManager, type Informer, type Manager } from '../../src/kube/index.js';
import { createWebServiceController, detectCapabilities, type WebServiceController } from '../../src/webservice/reconcile.js';
import { DEFAULT_PLATFORM, type WebService } from '../../src/webservice/render/index.js';
import { afterAll, beforeAll, expect } from 'vitest';
import { adminKubeConfig, createTestNamespace } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { startPrometheus, type LocalPrometheus } from '../support/prometheus.js';
import { startTrafficEmitter, type TrafficEmitter } from '../support/traffic-emitter.js';

export const WS_API = 'paved.dev/v1alpha1';

export interface Stack {
  manager: Manager;
  web: WebServiceController;
  stop(): Promise<void>;
}

/** Starts the WebService controller (delivery on) for one namespace. */
export async function startStack(namespace: string, provider: MetricsProvider): Promise<Stack> {
  const clients = KubeClients.fromKubeConfig(adminKubeConfig());
  const logger = pino({ level: 'silent' });
  const capabilities = await detectCapabilities(clients);
  const informers = createInformerFactory({ clients, logger });
  const web = await createWebServiceController({
    clients,
    platform: DEFAULT_PLATFORM,
    capabilities,
    logger,
    namespace,
    informers,
    deployerFor: () => clients,
    delivery: { provider },
    notReadyRequeueMs: 2000,
  });
  const manager = createManager({ logger, leaderElection: false });
  manager.addInformer(...informers.informers());
  manager.addController(web.controller);
  await manager.start();
  return {
    manager,
    web,
    async stop() {
      await manager.stop();
      web.dispose();
    },
  };
}

export function prometheusProvider(url: string): MetricsProvider {
  return createPrometheusProvider({ url, timeoutMs: 2000 });
}

/** Reads and writes of the test itself (as kubectl would). */
export class Kubectl {
  readonly clients = KubeClients.fromKubeConfig(adminKubeConfig());
  constructor(readonly namespace: string) {}

  async create(obj: KubernetesObject): Promise<void> {
    const path = await this.clients.resourcePath({ apiVersion: obj.apiVersion!, kind: obj.kind!, namespace: this.namespace });
    await this.clients.request({ method: 'POST', path, body: { ...obj, metadata: { ...obj.metadata, namespace: this.namespace } } });
  }

  async webService(name: string): Promise<WebService & { status?: { rollout?: RolloutState } }> {
    const ws = await this.clients.get<WebService & KubernetesObject>({ apiVersion: WS_API, kind: 'WebService', namespace: this.namespace, name });
    if (!ws) throw new Error(`WebService ${name} not found`);
    return ws as WebService & { status?: { rollout?: RolloutState } };
  }

  async rollout(name: string): Promise<RolloutState> {
    const r = (await this.webService(name)).status?.rollout;
    if (!r) throw new Error('no rollout state yet');
    return r;
  }

  async patchWebService(name: string, patch: unknown): Promise<void> {
    const path = await this.clients.resourcePath({ apiVersion: WS_API, kind: 'WebService', namespace: this.namespace, name });
    await this.clients.request({ method: 'PATCH', path, body: patch, contentType: 'application/merge-patch+json' });
  }

  /** kubectl annotate --overwrite ws/NAME paved.dev/rollout-action=VALUE */
  async action(name: string, value: string): Promise<void> {
    await this.patchWebService(name, { metadata: { annotations: { 'paved.dev/rollout-action': value } } });
  }

  async deployment(name: string): Promise<V1Deployment | undefined> {
    return this.clients.get<V1Deployment & KubernetesObject>({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: this.namespace, name });
  }

  async events(): Promise<Array<{ reason?: string; note?: string }>> {
    const list = await this.clients.list<KubernetesObject & { reason?: string; note?: string }>('events.k8s.io/v1', 'Event', { namespace: this.namespace });
    return list.items;
  }
}

/** Watches the HTTPRoute of a service and records every distinct canary weight it is given, in order. */
export async function watchWeights(namespace: string, service: string): Promise<{ weights: number[]; stop(): Promise<void> }> {
  const clients = KubeClients.fromKubeConfig(adminKubeConfig());
  const inf: Informer<KubernetesObject> = createInformer({ clients, apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', namespace });
  const weights: number[] = [];
  const seen = (obj: KubernetesObject) => {
    if (obj.metadata?.name !== service) return;
    const refs = (obj as { spec?: { rules?: Array<{ backendRefs?: Array<{ name?: string; weight?: number }> }> } }).spec?.rules?.[0]?.backendRefs ?? [];
    const w = refs.find((r) => r.name === `${service}-canary`)?.weight ?? 0;
    if (weights.at(-1) !== w) weights.push(w);
  };
  inf.on('add', seen);
  inf.on('update', seen);
  await inf.start();
  await inf.waitForSync();
  return { weights, stop: () => inf.stop() };
}

/** A WebService with Gateway API routing and test-sized delivery (`extra` adds spec fields, e.g. config). */
export function webServiceManifest(name: string, image: string, delivery: Record<string, unknown>, extra: Record<string, unknown> = {}): KubernetesObject {
  return {
    apiVersion: WS_API,
    kind: 'WebService',
    metadata: { name },
    spec: {
      image,
      networking: { visibility: 'public', host: `${name}.example.com` },
      scaling: { minReplicas: 2, maxReplicas: 4 },
      delivery,
      ...extra,
    },
  } as KubernetesObject;
}

/** An AnalysisTemplate with test timing: 2 s interval, 5 s window (1 s scrape). */
export function analysisTemplate(name: string, metrics: Array<Record<string, unknown>>): KubernetesObject {
  return {
    apiVersion: WS_API,
    kind: 'AnalysisTemplate',
    metadata: { name },
    spec: { metrics: metrics.map((m) => ({ interval: '2s', window: '5s', count: 2, failureLimit: 1, inconclusiveLimit: 1, consecutiveErrorLimit: 2, ...m })) },
  } as KubernetesObject;
}

export const ERROR_RATE_QUERY =
  '(sum(rate(http_requests_total{namespace="{{namespace}}",service="{{service}}",track="{{track}}",code=~"5.."}[{{interval}}])) or vector(0)) / sum(rate(http_requests_total{namespace="{{namespace}}",service="{{service}}",track="{{track}}"}[{{interval}}]))';
export const P99_QUERY =
  'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="{{namespace}}",service="{{service}}",track="{{track}}"}[{{interval}}])))';

/** Steps 10 -> gate -> 50 -> gate -> 100 with the namespace's `gate` template. */
export function gatedSteps(template = 'gate'): Array<Record<string, unknown>> {
  const gate = { analysis: { templates: [{ templateName: template }] } };
  return [{ setWeight: 10 }, gate, { setWeight: 50 }, gate, { setWeight: 100 }];
}

// ---- the shared fixture of the end-to-end files ----

export const SLOW = { timeoutMs: 120_000, intervalMs: 500 };

export interface Env {
  ns: string;
  k: Kubectl;
  emitter: TrafficEmitter;
  stack: Stack;
  /** Every distinct canary weight the HTTPRoute was given, in order. */
  weights: number[];
}

/** The error-rate query of a track, rendered for a test namespace (5 s window). */
export function errorRateOf(ns: string, track: 'canary' | 'stable'): string {
  return ERROR_RATE_QUERY.replaceAll('{{namespace}}', ns).replaceAll('{{service}}', 'shop').replaceAll('{{track}}', track).replaceAll('{{interval}}', '5s');
}

/** Waits until Prometheus has scraped the emitter long enough for a track's rate to exist. */
export async function scraped(url: string, ns: string, track: 'canary' | 'stable' = 'canary'): Promise<void> {
  const provider = prometheusProvider(url);
  await eventually(async () => expect((await provider.query(errorRateOf(ns, track))).kind).toBe('value'), SLOW);
}

/** Options of a rollout test's set-up. */
export interface SetupOptions {
  /** The emitter plays the gateway: requests split by the HTTPRoute's weights (canary at 0%: none). */
  followRoute?: boolean;
  /** More spec fields of the WebService (config, overrides). */
  spec?: Record<string, unknown>;
}

export async function release(env: Env, image: string): Promise<void> {
  await env.k.patchWebService('shop', { spec: { image } });
}

export const errorGate = [{ name: 'error-rate', query: ERROR_RATE_QUERY, max: 0.05 }];

/** One Prometheus per file (1 s scrape) and per-test namespaces, emitters and controllers, cleaned up after the file. */
export function rolloutFixture(): {
  prom(): LocalPrometheus;
  cleanups: Array<() => Promise<void>>;
  setup(prefix: string, gate: Array<Record<string, unknown>>, delivery?: Record<string, unknown>, options?: SetupOptions): Promise<Env>;
} {
  let prom: LocalPrometheus | undefined;
  const cleanups: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    prom = await startPrometheus({ scrapeIntervalSeconds: 1 });
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });
  const get = (): LocalPrometheus => {
    if (!prom) throw new Error('Prometheus not started');
    return prom;
  };
  /** A namespace with an emitter scraped by Prometheus, both controllers, the `gate` template and a WebService at 1.0.0, settled. */
  async function setup(prefix: string, gate: Array<Record<string, unknown>>, delivery: Record<string, unknown> = {}, options: SetupOptions = {}): Promise<Env> {
    const ns = await createTestNamespace(prefix);
    const emitter = await startTrafficEmitter({
      namespace: ns,
      service: 'shop',
      requestsPerSecond: 50,
      ...(options.followRoute ? { followRoute: { kubeConfig: adminKubeConfig() } } : {}),
    });
    cleanups.push(() => emitter.stop());
    await get().addTarget(`emitter-${ns}`, emitter.hostPort);
    await scraped(get().url, ns, options.followRoute ? 'stable' : 'canary');
    const k = new Kubectl(ns);
    await k.create(analysisTemplate('gate', gate));
    const stack = await startStack(ns, prometheusProvider(get().url));
    cleanups.push(() => stack.stop());
    const route = await watchWeights(ns, 'shop');
    cleanups.push(() => route.stop());
    await k.create(
      webServiceManifest('shop', 'ghcr.io/acme/shop:1.0.0', { steps: gatedSteps(), progressDeadlineSeconds: 60, scaleDownDelaySeconds: 0, ...delivery }, options.spec),
    );
    await eventually(async () => {
      const r = await k.rollout('shop');
      expect(r.phase).toBe('Healthy');
      expect((await k.deployment('shop'))?.status?.readyReplicas).toBe(2);
    }, SLOW);
    return { ns, k, emitter, stack, weights: route.weights };
  }
  return { prom: get, cleanups, setup };
}
