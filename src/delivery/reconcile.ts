/**
 * The delivery controller: drives the rollout of every WebService whose pod template changes.
 *
 * For each WebService key, in this order: get (cache) -> gone or deleting: nothing to do -> observe
 * (the desired template's revision, the live stable and canary Deployments, the HTTPRoute weight, the
 * rollout-action annotation, the analysis templates of the steps) -> measure the metrics of the
 * current analysis run that are due (the only I/O to Prometheus; the provider never throws) -> plan
 * (pure state machine) -> write `status.rollout` (only when changed) -> Events, metrics -> clear a
 * handled rollout-action annotation -> requeue when the plan waits on time.
 *
 * It writes nothing but the rollout state: the WebService reconciler renders and applies the
 * Deployments, Services and HTTPRoute, taking the rollout's part of them from `rolloutInput(ws)`
 * (render-input.ts), which derives them from that state and the caches. The state is written first,
 * so a crash between the two never loses a decision (a rollback stays a rollback), and both sides
 * derive the same writes from it. A tracker of our own status writes' resourceVersions detects a stale
 * cache (we would otherwise plan from a state older than the one we wrote).
 */
import type { KubernetesObject, V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { dueMetrics } from '../analysis/assess.js';
import { measureMetric } from '../analysis/measure.js';
import type { MetricsProvider } from '../analysis/prometheus-provider.js';
import { ANALYSIS_API_VERSION, loadBuiltinTemplates, parseTemplateSpec, resolveMetrics } from '../analysis/templates.js';
import type { AnalysisRun, Measurement, TemplateRef, TemplateSpec } from '../analysis/types.js';
import { InvalidSpecError, describeError } from '../errors.js';
import {
  EventRecorder,
  createController,
  createInformer,
  isNotFound,
  keyOf,
  mapToOwner,
  mapToSelf,
  statusEqual,
  writeStatus,
  type Controller,
  type Informer,
  type KubeClients,
  type ObjectKey,
  type ReconcileContext,
  type ReconcileResult,
} from '../kube/index.js';
import type { Capabilities, PlatformConfig, RenderContext, RolloutRenderInput, WebService } from '../webservice/render/index.js';
import type { Condition } from '../kube/conditions.js';
import { withRolloutConditions } from './conditions.js';
import { recordRollout } from './metrics.js';
import { desiredPodTemplate, readRolloutState } from './observe.js';
import { canaryServes, outageRun, plan } from './plan.js';
import { observeFromCaches, rolloutRenderInput, type DeliveryCaches } from './render-input.js';
import { normalizeDelivery } from './spec.js';
import { ROLLOUT_ACTION_ANNOTATION, type DeliverySpec, type Plan, type RolloutState, type StepAnalysis } from './types.js';

const WS_API_VERSION = 'paved.dev/v1alpha1';
const MANAGED_SELECTOR = 'app.kubernetes.io/managed-by=paved,paved.dev/service';

type WebServiceObject = WebService & KubernetesObject;

/** Resolves analysis template references, with a short cache and the built-in templates as fallback. */
export class TemplateSource {
  private readonly cache = new Map<string, { at: number; spec: TemplateSpec | undefined; error?: string }>();

  constructor(
    private readonly clients: KubeClients,
    private readonly builtins: ReadonlyMap<string, TemplateSpec>,
    private readonly ttlMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  private async fetch(ref: TemplateRef, namespace: string): Promise<{ spec: TemplateSpec | undefined; error?: string }> {
    const kind = ref.clusterScope ? 'ClusterAnalysisTemplate' : 'AnalysisTemplate';
    const key = `${kind}/${ref.clusterScope ? '' : namespace}/${ref.name}`;
    const hit = this.cache.get(key);
    if (hit && this.now() - hit.at < this.ttlMs) return hit;
    let entry: { spec: TemplateSpec | undefined; error?: string };
    try {
      const obj = await this.clients.get<KubernetesObject & { spec?: unknown }>({
        apiVersion: ANALYSIS_API_VERSION,
        kind,
        name: ref.name,
        ...(ref.clusterScope ? {} : { namespace }),
      });
      entry = { spec: obj ? parseTemplateSpec(obj.spec, `${kind}/${ref.name}`) : undefined };
    } catch (err) {
      if (err instanceof InvalidSpecError) entry = { spec: undefined, error: err.message };
      else if (isNotFound(err)) entry = { spec: undefined };
      else throw err;
    }
    if (!entry.spec && !entry.error && ref.clusterScope) entry = { spec: this.builtins.get(ref.name) };
    this.cache.set(key, { ...entry, at: this.now() });
    if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value as string);
    return entry;
  }

  /** Resolves one list of references. Never throws for missing or invalid templates. */
  async resolve(refs: readonly TemplateRef[], namespace: string, field: string): Promise<StepAnalysis> {
    try {
      const fetched = await Promise.all(refs.map((r) => this.fetch(r, namespace)));
      const invalid = fetched.find((f) => f.error);
      if (invalid?.error) return { error: invalid.error };
      return { metrics: resolveMetrics(refs, (r) => fetched[refs.indexOf(r)]?.spec, field) };
    } catch (err) {
      return { error: describeError(err) };
    }
  }

  /** The metrics of every analysis step of `spec`, by step index. Never throws for missing or invalid templates. */
  async resolveSteps(spec: DeliverySpec, namespace: string): Promise<Map<number, StepAnalysis>> {
    const out = new Map<number, StepAnalysis>();
    for (const [i, step] of spec.steps.entries()) {
      if ('analysis' in step) out.set(i, await this.resolve(step.analysis.templates, namespace, `spec.delivery.steps[${i}]`));
    }
    return out;
  }
}

/** Options of the delivery controller. */
export interface DeliveryControllerOptions {
  clients: KubeClients;
  platform: PlatformConfig;
  capabilities: Capabilities;
  /** Prometheus (createPrometheusProvider). */
  provider: MetricsProvider;
  logger?: Logger;
  workers?: number;
  /** Watch one namespace only (tests); default all. */
  namespace?: string;
  /** Label selector of the WebServices this controller handles (default all): sharding, test isolation. */
  selector?: string;
  resyncPeriodMs?: number;
  /** Default: the YAML files of analysis-templates/. */
  builtinTemplates?: ReadonlyMap<string, TemplateSpec>;
  now?: () => Date;
}

/** The parts of a running delivery controller. */
export interface DeliveryController {
  controller: Controller;
  informers: Array<Informer<KubernetesObject>>;
  /** The seam for createWebServiceController({ rolloutInput }). */
  rolloutInput: (ws: WebService) => RolloutRenderInput | undefined;
  /** For tests and benchmarks: status writes and queries made. */
  readonly stats: { statusWrites: number; measurements: number };
}

/** Builds the delivery controller, its informers and the render seam. */
export async function createDeliveryController(opts: DeliveryControllerOptions): Promise<DeliveryController> {
  const { clients, platform, capabilities, provider } = opts;
  const now = opts.now ?? (() => new Date());
  const scope = opts.namespace ? { namespace: opts.namespace } : {};
  const common = { clients, ...(opts.logger ? { logger: opts.logger } : {}), ...scope, ...(opts.resyncPeriodMs ? { resyncPeriodMs: opts.resyncPeriodMs } : {}) };
  const webServices = createInformer<WebServiceObject>({
    ...common,
    apiVersion: WS_API_VERSION,
    kind: 'WebService',
    ...(opts.selector ? { labelSelector: opts.selector } : {}),
  });
  const deployments = createInformer<V1Deployment & KubernetesObject>({ ...common, apiVersion: 'apps/v1', kind: 'Deployment', labelSelector: MANAGED_SELECTOR });
  // Pods of a revision are counted per ReplicaSet (a rolling update keeps the previous template's pods).
  const replicaSets = createInformer<V1ReplicaSet & KubernetesObject>({ ...common, apiVersion: 'apps/v1', kind: 'ReplicaSet', labelSelector: MANAGED_SELECTOR });
  const routes = capabilities.gatewayApi
    ? createInformer<KubernetesObject>({ ...common, apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', labelSelector: MANAGED_SELECTOR })
    : undefined;
  const namespaces = createInformer<KubernetesObject>({
    clients,
    ...(opts.logger ? { logger: opts.logger } : {}),
    apiVersion: 'v1',
    kind: 'Namespace',
    ...(opts.namespace ? { fieldSelector: `metadata.name=${opts.namespace}` } : {}),
  });
  const caches: DeliveryCaches = {
    deployment: (ns, name) => deployments.getByName(name, ns),
    replicaSets: (ns, service) => replicaSets.listByLabels({ 'paved.dev/service': service }, ns),
    route: (ns, name) => routes?.getByName(name, ns),
  };
  const templates = new TemplateSource(clients, opts.builtinTemplates ?? (await loadBuiltinTemplates()));
  const events = new EventRecorder(clients, { ...(opts.logger ? { logger: opts.logger } : {}), now });
  /** resourceVersions of our own status writes, to detect a cache older than them. */
  const written = new Map<string, number>();
  const stats = { statusWrites: 0, measurements: 0 };

  /** The same context the WebService reconciler renders with (team from the namespace label). */
  const contextFor = (ws: WebService): RenderContext => {
    const team = namespaces.getByName(ws.metadata?.namespace ?? '')?.metadata?.labels?.['paved.dev/team'];
    return { capabilities, platform, ...(team ? { team } : {}) };
  };

  /** Takes the due measurements of a run (the current step's or the background one). */
  async function measure(ws: WebService, run: AnalysisRun | undefined, resolved: StepAnalysis | undefined, at: Date): Promise<Map<string, Measurement>> {
    const state = readRolloutState(ws);
    const out = new Map<string, Measurement>();
    if (!state || state.phase !== 'Progressing' || !run || run.revision !== state.canaryRevision) return out;
    if (!resolved || 'error' in resolved) return out;
    const target = {
      namespace: ws.metadata?.namespace ?? '',
      service: ws.metadata?.name ?? '',
      canaryRevision: run.revision,
      stableRevision: state.stableRevision,
    };
    await Promise.all(
      dueMetrics(run, at).map(async (name) => {
        const metric = resolved.metrics.find((r) => r.metric.name === name)?.metric;
        if (!metric) return;
        stats.measurements += 1;
        out.set(name, await measureMetric(provider, metric, target, at));
      }),
    );
    return out;
  }

  /** While paused on a Prometheus outage: does Prometheus answer the paused run's queries again? */
  async function probeOutage(state: RolloutState | undefined): Promise<boolean | undefined> {
    const run = outageRun(state);
    if (!run) return undefined;
    const results = await Promise.all(run.metrics.filter((m) => m.phase === 'Error').map((m) => provider.query(m.query)));
    stats.measurements += results.length;
    return results.every((r) => r.kind !== 'error');
  }

  async function clearAction(ws: WebServiceObject, value: string, log: Logger): Promise<void> {
    const path = await clients.resourcePath({ apiVersion: WS_API_VERSION, kind: 'WebService', namespace: ws.metadata?.namespace ?? '', name: ws.metadata?.name ?? '' });
    const pointer = `/metadata/annotations/${ROLLOUT_ACTION_ANNOTATION.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    try {
      await clients.request({
        method: 'PATCH',
        path,
        body: [{ op: 'test', path: pointer, value }, { op: 'remove', path: pointer }],
        contentType: 'application/json-patch+json',
      });
    } catch (err) {
      // Changed or removed meanwhile: the next reconcile sees the new value.
      log.debug({ err: describeError(err) }, 'rollout-action annotation not cleared');
    }
  }

  async function reconcile(key: ObjectKey, ctx: ReconcileContext): Promise<ReconcileResult> {
    const ws = webServices.get(key);
    if (!ws || ws.metadata?.deletionTimestamp) {
      written.delete(key);
      return;
    }
    const rv = Number(ws.metadata?.resourceVersion);
    const mine = written.get(key);
    if (mine !== undefined && Number.isFinite(rv)) {
      if (rv < mine) return { requeueAfter: 200 }; // our last write is not in the cache yet
      written.delete(key);
    }
    const at = now();
    const rctx = contextFor(ws);
    const spec = normalizeDelivery(ws.spec.delivery);
    const desired = desiredPodTemplate(ws, rctx);
    const namespace = ws.metadata?.namespace ?? '';
    const prev = readRolloutState(ws);
    const analysis = await templates.resolveSteps(spec, namespace);
    const background = spec.background ? await templates.resolve(spec.background.templates, namespace, 'spec.delivery.analysis') : undefined;
    const seen = observeFromCaches(ws, rctx, caches, desired.revision);
    // Background analysis reads the canary only while it serves traffic (see canaryServes).
    const backgroundDue = prev !== undefined && canaryServes(prev, seen);
    const [measurements, backgroundMeasurements] = await Promise.all([
      measure(ws, prev?.currentRun, prev?.currentRun ? analysis.get(prev.currentRun.stepIndex) : undefined, at),
      backgroundDue ? measure(ws, prev?.backgroundRun, background, at) : new Map<string, Measurement>(),
    ]);
    const providerAnswers = await probeOutage(prev);
    const obs = {
      ...seen,
      ...(providerAnswers !== undefined ? { providerAnswers } : {}),
      analysis,
      measurements,
      ...(background ? { background, backgroundMeasurements } : {}),
    };
    const p: Plan = plan(prev, obs, spec, at);

    // Progressing and Degraded go with every rollout write, so status.conditions never disagrees with it.
    const conditions = withRolloutConditions(ws.status?.conditions as Condition[] | undefined, p.state, ws.metadata?.generation, at);
    if (!statusEqual(prev, p.state) || !statusEqual(ws.status?.conditions, conditions)) {
      const res = await writeStatus(clients, ws, { ...(ws.status ?? {}), rollout: p.state, conditions } as Record<string, unknown>);
      if (res.changed) {
        stats.statusWrites += 1;
        const newRv = Number(res.object?.metadata?.resourceVersion);
        if (Number.isFinite(newRv)) written.set(key, newRv);
      }
    }
    for (const e of p.events) await events.event(ws, { type: e.type, reason: e.reason, note: e.message });
    recordRollout(ws.metadata?.namespace ?? '', ws.metadata?.name ?? '', p.records);
    const action = ws.metadata?.annotations?.[ROLLOUT_ACTION_ANNOTATION];
    if (action !== undefined && p.state.handledAction === action) await clearAction(ws, action, ctx.log);
    if (p.events.length) ctx.log.info({ phase: p.state.phase, step: p.state.stepIndex, weight: p.state.weight, events: p.events.map((e) => e.reason) }, p.state.message ?? 'rollout');
    return p.requeueAfterMs !== undefined ? { requeueAfter: Math.max(100, p.requeueAfterMs) } : undefined;
  }

  const controller = createController({
    name: 'delivery',
    reconcile,
    ...(opts.workers ? { workers: opts.workers } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  controller.watch(webServices, mapToSelf);
  const toOwner = mapToOwner({ kind: 'WebService', apiVersion: WS_API_VERSION });
  controller.watch(deployments, toOwner);
  // A ReplicaSet's owner is its Deployment: map it to the WebService by the service label.
  controller.watch(replicaSets, (rs) => {
    const service = rs.metadata?.labels?.['paved.dev/service'];
    return service ? [keyOf(rs.metadata?.namespace, service)] : [];
  });
  if (routes) controller.watch(routes, toOwner);

  return {
    controller,
    informers: [webServices, deployments, replicaSets, namespaces, ...(routes ? [routes] : [])] as Array<Informer<KubernetesObject>>,
    rolloutInput: (ws) => rolloutRenderInput(ws, contextFor(ws), caches),
    stats,
  };
}
