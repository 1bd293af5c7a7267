/**
 * The WebService controller: the one controller, and the one queue, of WebServices. For each key, in
 * this order: get (cache, or our own newer write) -> gone or deleting: nothing to do (children carry
 * owner references; the garbage collector removes them) -> observe (team, dependents) -> the rollout
 * step (rollout-step.ts: live Deployments, route, analysis measurements, then the pure delivery plan)
 * -> render (pure) with that decision -> policy (pure; any enforced violation: status PolicyViolation,
 * nothing applied: fail closed) -> apply every object with server-side apply as the namespace's
 * impersonated `paved-deployer` (skipped when the live object already matches, so a steady state
 * writes nothing) -> prune what the previous render applied and this one does not (the inventory in
 * status) -> ONE status write (only when changed) carrying conditions, inventory and `rollout` ->
 * Events on condition transitions and the plan's Events -> requeue when the plan waits on time.
 *
 * The rollout state is written after the apply, in the same write as the rest: a crash in between
 * replans from the previous state and the same live objects, which gives the same decision (the plan is
 * level-triggered on observations). One tracker of our own writes (own-writes.ts) sees through a cache
 * older than them, for the WebService and its children alike.
 *
 * Drift repair: the child informers map every change of a managed object to its WebService; the apply
 * sees the live object differ from the intent and re-applies it with `force`, taking back the fields paved
 * owns. Fields paved does not set (the HPA's `replicas`) stay with their owners, so nobody fights.
 */
import type { KubernetesObject, V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { ANALYSIS_API_VERSION, loadBuiltinTemplates } from '../analysis/templates.js';
import type { MetricsProvider } from '../analysis/prometheus-provider.js';
import { TemplateSource } from '../analysis/template-source.js';
import type { TemplateSpec } from '../analysis/types.js';
import { recordRollout } from '../delivery/metrics.js';
import { ROLLOUT_ACTION_ANNOTATION, type RolloutState } from '../delivery/types.js';
import type { DeliveryCaches } from '../delivery/render-input.js';
import { InvalidSpecError, PolicyViolationError, describeError } from '../errors.js';
import {
  EventRecorder,
  applyObject,
  FieldManagers,
  createController,
  createInformerFactory,
  isForbidden,
  isNotFound,
  keyOf,
  mapToOwner,
  serviceAccountUser,

  writeStatus,
  type Controller,
  type Informer,
  type InformerFactory,
  type KubeClients,
  type ObjectKey,
  type ReconcileContext,
  type ReconcileResult,
} from '../kube/index.js';
import { Reasons } from '../kube/reasons.js';
import { evaluatePolicies, formatViolations, type PolicyResult } from './policy/evaluate.js';
import type { PolicyContext } from './policy/types.js';
import { DOMAINS_ANNOTATION, TENANCY_COMPONENT } from '../tenancy/render.js';
import { Labels, MANAGED_BY } from '../api/index.js';
import { addWebServiceSource, newViolations, recordNewViolations } from './metrics.js';
import {
  renderWebService,
  type Capabilities,
  type PlatformConfig,
  type RenderContext,
  type RenderResult,
  type RenderedObject,
  type ServiceRef,
  type WebService,
  tierOf,
} from './render/index.js';
import { OwnWrites } from './own-writes.js';
import { previewWebService, type Preview } from './preview.js';
import { RECOMMENDATION_API_VERSION, RECOMMENDATION_KIND, appliedRequestsOf, webServiceOf, type RecommendationObject } from '../rightsizing/applied.js';
import { decideRollout, type RolloutDecision, type RolloutStepDeps } from './rollout-step.js';
import { claimOrder, planHostMap, type HostClaim } from './host-map.js';
import { calleeAllows, refusedDependencies, type RefusedDependency } from './consent.js';
import {
  assessStatus,
  eventWorthyConditions,
  inventoryKey,
  planPrune,
  type InventoryEntry,
  type StatusInput,
  type WebServiceStatus,
} from './status.js';

/** The ServiceAccount impersonated for writes into a team namespace. */
export const DEPLOYER_SERVICE_ACCOUNT = 'paved-deployer';
const WS_API_VERSION = 'paved.dev/v1alpha1';
/**
 * The selector of every child informer: all of paved's objects, so the tenancy controller and this one
 * share one watch per kind (the factory keys by selector); each filters by owner or label on read.
 */
export const MANAGED_SELECTOR = `${Labels.managedBy}=${MANAGED_BY}`;
/** The Namespaces both controllers read: those of a team (their labels and annotations feed renders). */
export const TEAM_NAMESPACE_SELECTOR = Labels.team;
const DEPENDS_ON_INDEX = 'dependsOn';
const HOST_INDEX = 'host';
/** The one key of the host map controller: it rewrites the whole map from the cache. */
const HOST_MAP_KEY = 'host-map';
/** Host-map rebuilds are debounced: a burst of WebService events (start-up, a resync) is one rebuild. */
const HOST_MAP_DEBOUNCE_MS = 1_000;

/** The child kinds paved renders, watched so that drift and readiness changes requeue the owner. */
const CHILD_KINDS: ReadonlyArray<{ apiVersion: string; kind: string; capability?: keyof Capabilities }> = [
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', capability: 'gatewayApi' },
  { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', capability: 'prometheusOperator' },
];

/** Options of the WebService controller. */
export interface WebServiceControllerOptions {
  /** The controller's own clients: reads, status, Events. Writes into team namespaces go through `deployerFor`. */
  clients: KubeClients;
  platform: PlatformConfig;
  /** Detected by discovery when absent. */
  capabilities?: Capabilities;
  logger?: Logger;
  workers?: number;
  /** Watch one namespace only (tests); default all. */
  namespace?: string;
  /** Label selector of the WebServices this controller handles (default all): sharding, test isolation. */
  selector?: string;
  resyncPeriodMs?: number;
  /** Clients for writes into a namespace. Default: impersonate `system:serviceaccount:<ns>:paved-deployer`. */
  deployerFor?: (namespace: string) => KubeClients;
  /** The process's shared informers (default: a factory of this controller's own, for tests). */
  informers?: InformerFactory;
  /**
   * Progressive delivery: canary rollouts planned in the same reconcile, gated on analysis measured
   * through `provider`. Absent (tests of the golden path alone): a spec change goes straight to the
   * stable Deployment and nothing is written to `status.rollout`.
   */
  delivery?: {
    provider: MetricsProvider;
    /** Default: the YAML files of analysis-templates/. */
    builtinTemplates?: ReadonlyMap<string, TemplateSpec>;
  };
  /**
   * Safety-net requeue while a WebService is not yet Available. Readiness changes arrive by watch (the
   * Deployment informer requeues the owner), so this is only a backstop. Default 5 minutes: short delays
   * flood the queue with thousands of not-yet-ready services and starve new work.
   */
  notReadyRequeueMs?: number;
  now?: () => Date;
  /**
   * The ConfigMap (host -> team) to maintain for the admission policy paved-host-not-taken; absent:
   * not maintained (the controller's host-ownership rule still refuses taken hosts).
   */
  hostMap?: { namespace: string; name: string };
}

/** The parts of a running WebService controller. */
export interface WebServiceController {
  controller: Controller;
  /** Further controllers to run with it: the host map writer when `hostMap` is set. */
  extraControllers: Controller[];
  /** Informers to run (add them to the manager with the controller). */
  informers: Array<Informer<KubernetesObject>>;
  webServices: Informer<WebService & KubernetesObject>;
  /** The shared Deployment and HTTPRoute informers (the API server's live view reads them). */
  deployments: Informer<KubernetesObject>;
  httpRoutes?: Informer<KubernetesObject>;
  capabilities: Capabilities;
  /** Status writes and analysis measurements since start (benchmarks). */
  stats: { statusWrites: number; measurements: number };
  /** What `ws` would render to and whether policy allows it, exactly as reconcile decides (pure over the caches). */
  preview(ws: WebService, team?: string): Preview;
  /** Stops counting this controller's cache in the gauges. */
  dispose(): void;
}

async function hasKind(clients: KubeClients, apiVersion: string, kind: string): Promise<boolean> {
  try {
    await clients.resourceFor(apiVersion, kind);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** Which optional APIs the cluster serves (Gateway API HTTPRoute, prometheus-operator ServiceMonitor). */
export async function detectCapabilities(clients: KubeClients): Promise<Capabilities> {
  const [gatewayApi, prometheusOperator] = await Promise.all([
    hasKind(clients, 'gateway.networking.k8s.io/v1', 'HTTPRoute'),
    hasKind(clients, 'monitoring.coreos.com/v1', 'ServiceMonitor'),
  ]);
  return { gatewayApi, prometheusOperator };
}

/** The `namespace/service` keys a WebService depends on (its dependency index values). */
export function dependencyKeys(ws: WebService): string[] {
  const ns = ws.metadata?.namespace ?? '';
  return (ws.spec?.networking?.dependencies ?? []).map((d) => `${d.namespace ?? ns}/${d.service}`);
}

/** A WebService and the WebServices it depends on (their NetworkPolicies admit it). */
function webServiceKeys(ws: WebService): ObjectKey[] {
  return [keyOf(ws.metadata?.namespace, ws.metadata?.name ?? ''), ...dependencyKeys(ws)];
}

/** A WebService's public host, lower-cased, as an index value. */
function hostOf(ws: WebService): string[] {
  const h = ws.spec?.networking?.host;
  return h ? [h.toLowerCase()] : [];
}

/** The creation time as RFC 3339 (the cache may hold a Date or the API's string): comparable as text. */
function createdAtOf(ws: WebService): string {
  const t: unknown = ws.metadata?.creationTimestamp;
  return t instanceof Date ? t.toISOString() : typeof t === 'string' ? t : '';
}

function splitKeyMeta(key: ObjectKey): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** The informers of the controller, from the process's shared factory (or one of its own). */
function sharedInformers(opts: WebServiceControllerOptions, capabilities: Capabilities) {
  const { clients } = opts;
  const scope = opts.namespace ? { namespace: opts.namespace } : {};
  const factory =
    opts.informers ??
    createInformerFactory({ clients, ...(opts.logger ? { logger: opts.logger } : {}), ...(opts.resyncPeriodMs ? { resyncPeriodMs: opts.resyncPeriodMs } : {}) });
  const webServices = factory.informer<WebService & KubernetesObject>({
    ...scope,
    apiVersion: WS_API_VERSION,
    kind: 'WebService',
    ...(opts.selector ? { labelSelector: opts.selector } : {}),
    indexers: { [DEPENDS_ON_INDEX]: dependencyKeys, [HOST_INDEX]: hostOf },
    resync: true,
  });
  // Scoped to one namespace (tests): that namespace, labelled or not. Else the team namespaces, shared with tenancy.
  const namespaces = factory.informer<KubernetesObject>(
    opts.namespace
      ? { apiVersion: 'v1', kind: 'Namespace', fieldSelector: `metadata.name=${opts.namespace}` }
      : { apiVersion: 'v1', kind: 'Namespace', labelSelector: TEAM_NAMESPACE_SELECTOR },
  );
  const children = new Map<string, Informer<KubernetesObject>>();
  for (const c of CHILD_KINDS) {
    if (c.capability && !capabilities[c.capability]) continue;
    children.set(`${c.apiVersion}|${c.kind}`, factory.informer<KubernetesObject>({ ...scope, apiVersion: c.apiVersion, kind: c.kind, labelSelector: MANAGED_SELECTOR }));
  }
  const deployments = factory.informer<V1Deployment & KubernetesObject>({ ...scope, apiVersion: 'apps/v1', kind: 'Deployment', labelSelector: MANAGED_SELECTOR });
  const httpRoutes = children.get('gateway.networking.k8s.io/v1|HTTPRoute');
  // Pods of a revision are counted per ReplicaSet (a rolling update keeps the previous template's pods).
  const replicaSets = opts.delivery
    ? factory.informer<V1ReplicaSet & KubernetesObject>({ ...scope, apiVersion: 'apps/v1', kind: 'ReplicaSet', labelSelector: MANAGED_SELECTOR })
    : undefined;
  // Analysis templates from the cache: an edit counts from the next analysis, with no read per step.
  const templates = opts.delivery
    ? [
        factory.informer<KubernetesObject>({ ...scope, apiVersion: ANALYSIS_API_VERSION, kind: 'AnalysisTemplate' }),
        factory.informer<KubernetesObject>({ apiVersion: ANALYSIS_API_VERSION, kind: 'ClusterAnalysisTemplate' }),
      ] as const
    : undefined;
  // Rightsizing's applied requests (one Recommendation per WebService, same name): a render input.
  const recommendations = factory.informer<RecommendationObject>({ ...scope, apiVersion: RECOMMENDATION_API_VERSION, kind: RECOMMENDATION_KIND });
  return { webServices, namespaces, children, deployments, httpRoutes, replicaSets, templates, recommendations };
}

/** What the reconcile steps share: the options, the informers' caches, the writers' bookkeeping. */
interface ControllerScope extends SharedInformers {
  opts: WebServiceControllerOptions;
  clients: KubeClients;
  platform: PlatformConfig;
  capabilities: Capabilities;
  stats: { statusWrites: number; measurements: number };
  rolloutDeps: RolloutStepDeps | undefined;
  deployerFor: (ns: string) => KubeClients;
  now: () => Date;
  events: EventRecorder;
  /** Our own last writes, fresher than a lagging cache. */
  own: OwnWrites;
}

type SharedInformers = ReturnType<typeof sharedInformers>;

const cached = (s: ControllerScope, obj: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): KubernetesObject | null | undefined => {
  const inf = s.children.get(`${obj.apiVersion}|${obj.kind}`);
  if (!inf) return undefined; // not watched (extra manifests): applyObject reads it
  return s.own.fresher(obj, inf.getByName(obj.metadata.name, obj.metadata.namespace) ?? null);
};

const teamOfNamespace = (s: ControllerScope, ns: string): string | undefined => s.namespaces.getByName(ns)?.metadata?.labels?.['paved.dev/team'];
const refusedOf = (s: ControllerScope, ws: WebService): RefusedDependency[] =>
  refusedDependencies(ws, teamOfNamespace(s, ws.metadata?.namespace ?? ''), (namespace, service) => {
    const callee = s.webServices.getByName(service, namespace);
    return callee ? { ws: callee, team: teamOfNamespace(s, namespace) } : undefined;
  });

/**
 * Host ownership (policy rule host-ownership): the team's domains from its namespace's annotation
 * (written by the tenancy controller), and which other team already serves a host: the WebService
 * of another team with that host that was created first (ties by namespace/name), from the cache.
 */
const hostsContext = (s: ControllerScope, ws: WebService): NonNullable<PolicyContext['hosts']> => {
  const ns = ws.metadata?.namespace ?? '';
  const team = teamOfNamespace(s, ns);
  const raw = s.namespaces.getByName(ns)?.metadata?.annotations?.[DOMAINS_ANNOTATION] ?? '';
  const domains = raw.split(',').map((d) => d.trim()).filter(Boolean);
  // The same order as the host map's (claimOrder), so admission and the controller agree on the winner.
  const order = (o: WebService): string => claimOrder({ createdAt: createdAtOf(o), namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '' });
  const mine = order(ws);
  return {
    domains,
    servedBy: (host) => {
      const h = host.toLowerCase();
      // By the host index: a scan of every WebService per reconcile is quadratic in their number.
      const other = s.webServices
        .byIndex(HOST_INDEX, h)
        .filter((o) => teamOfNamespace(s, o.metadata?.namespace ?? '') !== team)
        .filter((o) => o.metadata?.namespace !== ns && order(o) < mine)
        .sort((a, b) => (order(a) < order(b) ? -1 : 1))[0];
      return other ? (teamOfNamespace(s, other.metadata?.namespace ?? '') ?? `namespace ${other.metadata?.namespace}`) : undefined;
    },
  };
};

/**
 * Who else controls the live object `o` would overwrite (from the cache of watched kinds): another
 * WebService (its controller owner reference) or the tenancy controller (its component label).
 */
const foreignOwnerOf = (s: ControllerScope, ws: WebService, o: RenderedObject): string | undefined => {
  const live = cached(s, o);
  if (!live) return undefined;
  if (live.metadata?.labels?.[Labels.component] === TENANCY_COMPONENT) return 'the tenancy controller';
  const owner = live.metadata?.ownerReferences?.find((r) => r.controller);
  if (owner && owner.uid !== ws.metadata?.uid) return `${owner.kind} ${owner.name}`;
  return undefined;
};

const renderContextFor = (s: ControllerScope, ws: WebService): RenderContext => {
  const ns = ws.metadata?.namespace ?? '';
  const team = teamOfNamespace(s, ns);
  // Only the dependents this service consents to (consent.ts): never another team's by their say-so.
  const dependents: ServiceRef[] = s.webServices
    .byIndex(DEPENDS_ON_INDEX, `${ns}/${ws.metadata?.name}`)
    .filter((d) => calleeAllows(ws, team, { namespace: d.metadata?.namespace ?? '', team: teamOfNamespace(s, d.metadata?.namespace ?? '') }))
    .map((d) => ({ service: d.metadata?.name ?? '', namespace: d.metadata?.namespace ?? '' }));
  const rightsizing = appliedRequestsOf(s.recommendations.getByName(ws.metadata?.name ?? '', ns), ws);
  return { capabilities: s.capabilities, platform: s.platform, ...(team ? { team } : {}), dependents, ...(rightsizing ? { rightsizing } : {}) };
};

/** What the policies see besides the objects: the cluster's host claims and the live objects' owners. */
const policyContextFor = (s: ControllerScope, ws: WebService): PolicyContext => ({
  namespace: ws.metadata?.namespace ?? '',
  allowedRegistries: s.platform.allowedRegistries,
  hosts: hostsContext(s, ws),
  foreignOwner: (o) => foreignOwnerOf(s, ws, o),
});

/**
 * The preview the API serves: rendered with this controller's context (dependents, applied rightsizing)
 * and checked with its policy context (host claims, foreign owners), so it refuses what reconcile would.
 * No rollout decision: the objects are those of the spec once promoted.
 */
const previewFor = (s: ControllerScope, intent: WebService, team: string | undefined): Preview => {
  // A change to an existing WebService: it is that object (its uid owns the live children).
  const existing = s.webServices.getByName(intent.metadata?.name ?? '', intent.metadata?.namespace);
  const ws = existing ? { ...intent, metadata: { ...intent.metadata, uid: existing.metadata?.uid } } : intent;
  const rctx = renderContextFor(s, ws);
  return previewWebService(ws, rctx.team || !team ? rctx : { ...rctx, team }, policyContextFor(s, ws));
};

async function finish(s: ControllerScope, ws: WebService & KubernetesObject, input: Omit<StatusInput, 'ws' | 'now'>): Promise<WebServiceStatus> {
  const status = assessStatus({ ...input, ws, now: s.now() });
  const written = await writeStatus(s.clients, ws, status as Record<string, unknown>);
  if (written.changed) {
    s.stats.statusWrites += 1;
    s.own.remember(written.object);
    // Counted once: `ws` is our own last write when the cache lags, so a violation is new only once.
    recordNewViolations(newViolations(ws.status?.policy?.violations, input.violations));
    // Events on transitions into or out of a bad state only (see eventWorthyConditions).
    await s.events.recordConditionTransitions(ws, ws.status?.conditions, eventWorthyConditions(ws.status?.conditions, status.conditions));
  }
  return status;
}

/**
 * What may need pruning: the inventory of the last recorded render, plus every cached child controlled
 * by this WebService (by label and owner uid). The second part covers a render whose status write
 * failed after its objects were applied, so its inventory was never recorded.
 */
function pruneCandidates(s: ControllerScope, ws: WebService): InventoryEntry[] {
  const ns = ws.metadata?.namespace ?? '';
  const uid = ws.metadata?.uid;
  const out = new Map<string, InventoryEntry>();
  for (const e of ws.status?.inventory ?? []) out.set(inventoryKey(e), e);
  for (const inf of s.children.values()) {
    for (const o of inf.listByLabels({ 'paved.dev/service': ws.metadata?.name ?? '' }, ns)) {
      if (!o.metadata?.ownerReferences?.some((r) => r.controller && r.uid === uid)) continue;
      const e = { apiVersion: inf.apiVersion, kind: inf.kind, name: o.metadata?.name ?? '' };
      out.set(inventoryKey(e), e);
    }
  }
  return [...out.values()];
}

async function applyAll(
  s: ControllerScope,
  ws: WebService & KubernetesObject,
  rendered: RenderResult,
  log: Logger,
): Promise<Array<{ desired: RenderedObject; live: KubernetesObject | undefined }>> {
  const ns = ws.metadata?.namespace ?? '';
  const deployer = s.deployerFor(ns);
  const results = await Promise.all(
    rendered.objects.map(async (desired) => {
      const current = cached(s, desired);
      const res = await applyObject(deployer, desired as unknown as KubernetesObject, {
        fieldManager: FieldManagers.webService,
        ...(current === undefined ? {} : { current }),
      });
      if (res.sent) {
        s.own.remember(res.object);
        log.debug({ object: `${desired.kind}/${desired.metadata.name}` }, 'applied');
      }
      return { desired, live: res.object };
    }),
  );
  for (const gone of planPrune(pruneCandidates(s, ws), rendered.objects)) {
    try {
      const path = await deployer.resourcePath({ apiVersion: gone.apiVersion, kind: gone.kind, namespace: ns, name: gone.name });
      s.own.forget({ apiVersion: gone.apiVersion, kind: gone.kind, metadata: { namespace: ns, name: gone.name } });
      await deployer.request({ method: 'DELETE', path, body: { propagationPolicy: 'Background' } });
      log.info({ object: `${gone.kind}/${gone.name}` }, 'pruned');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  return results;
}

/** Clears a handled rollout-action annotation (a JSON patch that tests the value first). */
async function clearAction(s: ControllerScope, ws: WebService & KubernetesObject, value: string, log: Logger): Promise<void> {
  const path = await s.clients.resourcePath({ apiVersion: WS_API_VERSION, kind: 'WebService', namespace: ws.metadata?.namespace ?? '', name: ws.metadata?.name ?? '' });
  const pointer = `/metadata/annotations/${ROLLOUT_ACTION_ANNOTATION.replace(/~/g, '~0').replace(/\//g, '~1')}`;
  try {
    s.own.remember(
      await s.clients.request<KubernetesObject>({
        method: 'PATCH',
        path,
        body: [{ op: 'test', path: pointer, value }, { op: 'remove', path: pointer }],
        contentType: 'application/json-patch+json',
      }),
    );
  } catch (err) {
    // Changed or removed meanwhile: the next reconcile sees the new value.
    log.debug({ err: describeError(err) }, 'rollout-action annotation not cleared');
  }
}

/** After the status write: the plan's Events and metrics, the handled action cleared. */
async function announceRollout(s: ControllerScope, ws: WebService & KubernetesObject, decision: RolloutDecision, log: Logger): Promise<void> {
  const p = decision.plan;
  for (const e of p.events) await s.events.event(ws, { type: e.type, reason: e.reason, note: e.message });
  recordRollout(ws.metadata?.namespace ?? '', ws.metadata?.name ?? '', p.records);
  const action = ws.metadata?.annotations?.[ROLLOUT_ACTION_ANNOTATION];
  if (action !== undefined && p.state.handledAction === action) await clearAction(s, ws, action, log);
  if (p.events.length) log.info({ phase: p.state.phase, step: p.state.stepIndex, weight: p.state.weight, events: p.events.map((e) => e.reason) }, p.state.message ?? 'rollout');
}

/** Observe, decide the rollout (when delivery is on) and render; an invalid spec is reported in status. */
async function decideAndRender(s: ControllerScope, ws: WebService & KubernetesObject, at: Date): Promise<{ rendered: RenderResult; decision?: RolloutDecision }> {
  const rctx = renderContextFor(s, ws);
  try {
    const decision = s.rolloutDeps ? await decideRollout(s.rolloutDeps, ws, rctx, at) : undefined;
    const rendered = renderWebService(ws, decision ? { ...rctx, rollout: decision.input } : rctx);
    return { rendered, ...(decision ? { decision } : {}) };
  } catch (err) {
    if (!(err instanceof InvalidSpecError)) throw err;
    await finish(s, ws, { tier: tierOf(ws.spec), revision: ws.status?.revision ?? '', violations: [], outcome: { kind: 'invalid-spec', message: err.message } });
    throw err;
  }
}

/** The next reconcile: the plan's wake-up (analysis interval, pause) or the not-ready backstop. */
function requeueOf(s: ControllerScope, status: WebServiceStatus, decision: RolloutDecision | undefined): ReconcileResult {
  const available = status.conditions?.some((c) => c.type === 'Available' && c.status === 'True');
  const waits = [
    ...(available ? [] : [s.opts.notReadyRequeueMs ?? 300_000]),
    ...(decision?.plan.requeueAfterMs !== undefined ? [Math.max(100, decision.plan.requeueAfterMs)] : []),
  ];
  return waits.length ? { requeueAfter: Math.min(...waits) } : undefined;
}

async function reconcile(s: ControllerScope, key: ObjectKey, ctx: ReconcileContext): Promise<ReconcileResult> {
  const fromCache = s.webServices.get(key);
  if (!fromCache) {
    s.own.forget({ apiVersion: WS_API_VERSION, kind: 'WebService', metadata: splitKeyMeta(key) });
    return; // children are owned: the garbage collector removes them
  }
  const ws = s.own.fresher(fromCache, fromCache) ?? fromCache;
  if (ws.metadata?.deletionTimestamp) return;
  const { rendered, decision } = await decideAndRender(s, ws, s.now());
  const policy: PolicyResult = evaluatePolicies(rendered.objects, policyContextFor(s, ws), s.platform.policyModes);
  // Nothing applied (policy, failure): the rollout state stays what it was, and so do its Events.
  const base = { tier: rendered.tier, revision: rendered.revision, ...(rendered.url ? { url: rendered.url } : {}), violations: policy.violations };
  if (!policy.allowed) {
    await finish(s, ws, { ...base, outcome: { kind: 'policy-violation' } });
    throw new PolicyViolationError(policy.enforced);
  }
  if (policy.audited.length) ctx.log.info({ audited: formatViolations(policy.audited) }, 'audited policy violations');
  let objects: Array<{ desired: RenderedObject; live: KubernetesObject | undefined }>;
  try {
    objects = await applyAll(s, ws, rendered, ctx.log);
  } catch (err) {
    const reason = isForbidden(err) ? Reasons.Forbidden : Reasons.ApplyFailed;
    await finish(s, ws, { ...base, outcome: { kind: 'apply-failed', reason, message: describeError(err).slice(0, 1000) } });
    throw err;
  }
  const rollout: RolloutState | undefined = decision?.plan.state;
  const status = await finish(s, ws, { ...base, refusedDependencies: refusedOf(s, ws), outcome: { kind: 'applied', objects }, ...(rollout ? { rollout } : {}) });
  if (decision) await announceRollout(s, ws, decision, ctx.log);
  return requeueOf(s, status, decision);
}

/** Every WebService's claim on its host, from the cache (WebServices outside a team namespace claim nothing). */
const hostClaims = (s: ControllerScope): HostClaim[] =>
  s.webServices.list().flatMap((ws) => {
    const team = teamOfNamespace(s, ws.metadata?.namespace ?? '');
    const host = ws.spec?.networking?.host;
    if (!team || !host || ws.metadata?.deletionTimestamp) return [];
    return [{ host, team, namespace: ws.metadata?.namespace ?? '', name: ws.metadata?.name ?? '', createdAt: createdAtOf(ws) }];
  });

/**
 * The host map writer: one key, the whole map planned from the cache (planHostMap) and applied with
 * server-side apply under the WebService controller's field manager when it differs from the last
 * write (at start, from the live object). Keys this manager stops sending are removed by the apply.
 * Only events that can change a claim wake it (a host, a creation or deletion, a namespace's team),
 * and a wake-up waits HOST_MAP_DEBOUNCE_MS, so a burst of them (start-up, resyncs, a thousand new
 * services) is one rebuild, not one per event.
 */
function hostMapController(s: ControllerScope, ref: { namespace: string; name: string }): Controller {
  let lastData: string | undefined;
  const c = createController({
    name: 'webservice-host-map',
    workers: 1,
    ...(s.opts.logger ? { logger: s.opts.logger } : {}),
    reconcile: async (_key, ctx) => {
      const plan = planHostMap(hostClaims(s));
      const data = JSON.stringify(plan.data);
      if (plan.dropped) ctx.log.warn({ dropped: plan.dropped, kept: Object.keys(plan.data).length }, 'host map full: the newest hosts are left out of admission (the controller still checks them)');
      if (data === lastData) return;
      const desired = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ref.name, namespace: ref.namespace, labels: { 'app.kubernetes.io/part-of': 'paved' } }, data: plan.data };
      const res = await applyObject(s.clients, desired as unknown as KubernetesObject, { fieldManager: FieldManagers.webService });
      lastData = data;
      if (res.sent) ctx.log.info({ hosts: Object.keys(plan.data).length }, 'host map written');
    },
  });
  const wake = (): void => c.queue.addAfter(HOST_MAP_KEY, HOST_MAP_DEBOUNCE_MS);
  const claimOf = (ws: WebService | undefined): string => (ws ? `${ws.spec?.networking?.host ?? ''}|${createdAtOf(ws)}|${ws.metadata?.deletionTimestamp ? 'd' : ''}` : '');
  s.webServices.on('add', (ws) => { if (hostOf(ws).length) wake(); });
  s.webServices.on('delete', (ws) => { if (hostOf(ws).length) wake(); });
  s.webServices.on('update', (ws, old) => { if (claimOf(ws) !== claimOf(old)) wake(); });
  // A namespace's team label decides whose host it is.
  const teamOf = (ns: KubernetesObject | undefined): string | undefined => ns?.metadata?.labels?.['paved.dev/team'];
  s.namespaces.on('add', wake);
  s.namespaces.on('delete', wake);
  s.namespaces.on('update', (ns, old) => { if (teamOf(ns) !== teamOf(old)) wake(); });
  c.enqueue(HOST_MAP_KEY);
  return c;
}

/** What wakes a WebService: itself, its callees, its children, its ReplicaSets, its namespace, its host's rivals. */
function watchSources(s: ControllerScope, controller: Controller): void {
  // A callee's change (its allowedCallers) also re-checks the services that depend on it.
  controller.watch(s.webServices, (ws) => [
    ...webServiceKeys(ws),
    ...s.webServices.byIndex(DEPENDS_ON_INDEX, `${ws.metadata?.namespace}/${ws.metadata?.name}`).map((d) => keyOf(d.metadata?.namespace, d.metadata?.name ?? '')),
  ]);
  const toOwner = mapToOwner({ kind: 'WebService', apiVersion: WS_API_VERSION });
  for (const inf of s.children.values()) controller.watch(inf, toOwner);
  // A ReplicaSet's owner is its Deployment: map it to the WebService by the service label.
  if (s.replicaSets) {
    controller.watch(s.replicaSets, (rs) => {
      const service = rs.metadata?.labels?.['paved.dev/service'];
      return service ? [keyOf(rs.metadata?.namespace, service)] : [];
    });
  }
  // An applied (or restored) recommendation changes the pod template.
  controller.watch(s.recommendations, (rec) => {
    const name = webServiceOf(rec);
    return name ? [keyOf(rec.metadata?.namespace, name)] : [];
  });
  // A namespace's team label feeds every object's labels.
  controller.watch(s.namespaces, (ns) => s.webServices.list(ns.metadata?.name).map((ws) => keyOf(ws.metadata?.namespace, ws.metadata?.name ?? '')));
  // Releasing a host (the winner deleted, or moved to another host) lets a refused claimant through:
  // the update's old object carries the old host, so both old and new hosts' claimants are requeued.
  controller.watch(s.webServices, (ws) =>
    hostOf(ws).flatMap((h) => s.webServices.byIndex(HOST_INDEX, h).map((o) => keyOf(o.metadata?.namespace, o.metadata?.name ?? ''))),
  );
}

/** Builds the controller, its informers and its reconcile function. */
export async function createWebServiceController(opts: WebServiceControllerOptions): Promise<WebServiceController> {
  const { clients, platform } = opts;
  const capabilities = opts.capabilities ?? (await detectCapabilities(clients));
  const informers = sharedInformers(opts, capabilities);
  const { webServices, namespaces, children, deployments, httpRoutes, replicaSets, templates, recommendations } = informers;
  const stats = { statusWrites: 0, measurements: 0 };
  const deliveryCaches: DeliveryCaches = {
    deployment: (ns, name) => deployments.getByName(name, ns),
    replicaSets: (ns, service) => replicaSets?.listByLabels({ 'paved.dev/service': service }, ns) ?? [],
    route: (ns, name) => httpRoutes?.getByName(name, ns),
  };
  const rolloutDeps: RolloutStepDeps | undefined = opts.delivery
    ? {
        provider: opts.delivery.provider,
        templates: new TemplateSource(opts.delivery.builtinTemplates ?? (await loadBuiltinTemplates()), (kind, namespace, name) =>
          kind === 'AnalysisTemplate' ? templates?.[0].getByName(name, namespace) : templates?.[1].getByName(name),
        ),
        caches: deliveryCaches,
        stats,
      }
    : undefined;
  // Impersonating clients are cached by src/kube's identity module (one bounded LRU).
  const deployerFor = opts.deployerFor ?? ((ns: string): KubeClients => clients.impersonate(serviceAccountUser(ns, DEPLOYER_SERVICE_ACCOUNT)));
  const now = opts.now ?? (() => new Date());
  const events = new EventRecorder(clients, { ...(opts.logger ? { logger: opts.logger } : {}), now });

  const s: ControllerScope = { opts, clients, platform, capabilities, ...informers, stats, rolloutDeps, deployerFor, now, events, own: new OwnWrites() };
  const controller = createController({
    name: 'webservice',
    reconcile: (key, ctx) => reconcile(s, key, ctx),
    ...(opts.workers ? { workers: opts.workers } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  watchSources(s, controller);
  const extraControllers = opts.hostMap ? [hostMapController(s, opts.hostMap)] : [];
  const dispose = addWebServiceSource(webServices);
  return {
    controller,
    extraControllers,
    informers: [webServices as unknown as Informer<KubernetesObject>, namespaces, ...children.values(), ...(replicaSets ? [replicaSets] : []), ...(templates ?? []), recommendations as unknown as Informer<KubernetesObject>],
    webServices,
    deployments,
    ...(httpRoutes ? { httpRoutes } : {}),
    capabilities,
    stats,
    preview: (ws, team) => previewFor(s, ws, team),
    dispose,
  };
}


