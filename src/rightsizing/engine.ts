/**
 * One engine run (the shell around the pure recommender, stability rule and lifecycle planner):
 * observe the WebServices in `recommend` or `auto` mode, their live Deployments, HPAs, LimitRanges and
 * Recommendations from the shared informer caches -> read the whole cluster's usage from Prometheus in
 * a handful of batched queries (queries.ts) -> per WebService and container: recommend, judge
 * stability, plan the lifecycle -> write each Recommendation with server-side apply (skipped when
 * nothing changed, so a steady run writes nothing) -> Events on transitions -> metrics.
 *
 * A Prometheus that fails or returns no usage at all makes the run report that and change nothing.
 * Runs never overlap (a second call while one runs returns `skipped`). Every decision is recomputed
 * from the cluster and Prometheus, so a run interrupted by a restart is safe to repeat.
 */
import type { KubernetesObject, V1Container, V1Deployment, V1HorizontalPodAutoscaler, V1LimitRange } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { PAVED_API_VERSION, Labels, MANAGED_BY } from '../api/index.js';
import type { Team } from '../api/index.js';
import type { CostPrometheus } from '../cost/prometheus.js';
import { DEFAULT_PRICING, type Pricing } from '../cost/pricing.js';
import { HOURS_PER_MONTH } from '../cost/pricing.js';
import { totalCost, zeroQuantities } from '../cost/model.js';
import { describeError } from '../errors.js';
import { applyObject, FieldManagers, isNotFound, type EventRecorder, type Informer, type InformerFactory, type KubeClients } from '../kube/index.js';
import { formatBytes, formatCpu, parseQuantity } from '../kube/quantity.js';
import { normalizeSpec, type WebService } from '../webservice/render/index.js';
import { RECOMMENDATION_API_VERSION, RECOMMENDATION_KIND, type RecommendationObject } from './applied.js';
import type { RightsizingMetrics } from './metrics.js';
import { planLifecycle, type ClusterView, type ContainerRequests, type LifecyclePlan, type RecordedLifecycle, type RunVerdict, type WatchVerdict } from './plan.js';
import { queryUsage, watchQueries } from './queries.js';
import { recommendContainer } from './recommend.js';
import { assessStability } from './stability.js';
import { DEFAULT_SETTINGS, RecommendationStates, type ApplyWindow, type Bounds, type ContainerUsage, type RightsizingMode, type RightsizingSettings } from './types.js';
import { isInApplyWindow } from './window.js';

const GIB = 1024 ** 3;
const MANAGED_SELECTOR = `${Labels.managedBy}=${MANAGED_BY}`;

/** The outcome of one run (the `outcome` label of paved_rightsizing_runs_total). */
export type RunOutcome = 'completed' | 'skipped' | 'idle' | 'prometheus-unavailable' | 'no-data' | 'failed';

export interface RunReport {
  outcome: RunOutcome;
  services: number;
  written: number;
  queries: number;
  message?: string;
}

export interface EngineOptions {
  clients: KubeClients;
  informers: InformerFactory;
  prometheus: CostPrometheus;
  events: EventRecorder;
  metrics: RightsizingMetrics;
  logger: Logger;
  settings?: RightsizingSettings;
  pricing?: Pricing;
  /** The platform's default mode (a Team's spec.rightsizing.mode comes first). Default off. */
  defaultMode?: RightsizingMode;
  /** A Team by name (the tenancy controller's cache). */
  team?: (name: string) => Team | undefined;
  /** The team of a namespace (its paved.dev/team label, from the Namespace cache); default: the namespace's name. */
  teamOfNamespace?: (namespace: string) => string | undefined;
  /** Clients that write Recommendations into a namespace (default: impersonate its paved-deployer). */
  writerFor?: (namespace: string) => KubeClients;
  /** Watch one namespace only (tests). */
  namespace?: string;
  /** The latency and error-rate PromQL of the watch (the analysis templates'), with {{...}} placeholders. */
  watchTemplates: { latency: string; errorRate: string };
  /** The engine's clock (injectable). */
  now?: () => Date;
}

/** The caches the engine reads, from the process's one informer factory (scopes shared with the WebService controller). */
function engineInformers(opts: EngineOptions) {
  const scope = opts.namespace ? { namespace: opts.namespace } : {};
  const f = opts.informers;
  return {
    webServices: f.informer<WebService & KubernetesObject>({ ...scope, apiVersion: PAVED_API_VERSION, kind: 'WebService' }),
    recommendations: f.informer<RecommendationObject>({ ...scope, apiVersion: RECOMMENDATION_API_VERSION, kind: RECOMMENDATION_KIND }),
    deployments: f.informer<V1Deployment & KubernetesObject>({ ...scope, apiVersion: 'apps/v1', kind: 'Deployment', labelSelector: MANAGED_SELECTOR }),
    hpas: f.informer<V1HorizontalPodAutoscaler & KubernetesObject>({ ...scope, apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', labelSelector: MANAGED_SELECTOR }),
    limitRanges: f.informer<V1LimitRange & KubernetesObject>({ ...scope, apiVersion: 'v1', kind: 'LimitRange' }),
  };
}

type Caches = ReturnType<typeof engineInformers>;

const q = (text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  try {
    return parseQuantity(String(text));
  } catch {
    return undefined;
  }
};

/** The WebService's effective mode: its own, else its team's, else the platform's. */
export function modeOf(ws: WebService, team: Team | undefined, fallback: RightsizingMode): RightsizingMode {
  const own = (ws.spec as { rightsizing?: { mode?: RightsizingMode } }).rightsizing?.mode;
  const teams = (team?.spec as { rightsizing?: { mode?: RightsizingMode } } | undefined)?.rightsizing?.mode;
  return own ?? teams ?? fallback;
}

function windowOf(ws: WebService, base: ApplyWindow): ApplyWindow {
  const w = (ws.spec as { rightsizing?: { applyWindow?: Partial<ApplyWindow> } }).rightsizing?.applyWindow;
  return { ...base, ...(w ?? {}) };
}

/** The LimitRange's container bounds in a namespace (the tier's envelope, rendered by tenancy). */
function boundsOf(c: Caches, namespace: string, developerLimits: { cpu?: number; memory?: number }): Bounds {
  const min: { cpu?: number; memory?: number } = {};
  const max: { cpu?: number; memory?: number } = { ...developerLimits };
  for (const lr of c.limitRanges.list(namespace)) {
    for (const l of lr.spec?.limits ?? []) {
      if (l.type !== 'Container') continue;
      for (const r of ['cpu', 'memory'] as const) {
        const hi = q(l.max?.[r]);
        const lo = q(l.min?.[r]);
        if (hi !== undefined) max[r] = Math.min(max[r] ?? hi, hi);
        if (lo !== undefined) min[r] = Math.max(min[r] ?? lo, lo);
      }
    }
  }
  return { min, max };
}

const hasCpuHpa = (hpa: V1HorizontalPodAutoscaler | undefined): boolean =>
  (hpa?.spec as { metrics?: Array<{ type?: string; resource?: { name?: string } }> } | undefined)?.metrics?.some((m) => m.type === 'Resource' && m.resource?.name === 'cpu') ?? false;

/** Monthly cost of requests (cost model prices; allocated = the request, used = 0). */
function monthlyCost(pricing: Pricing, cores: number, bytes: number, replicas: number): number {
  const hours = HOURS_PER_MONTH * replicas;
  return totalCost({ ...zeroQuantities(), cpuAllocated: cores * hours, cpuRequested: cores * hours, memoryAllocated: (bytes / GIB) * hours, memoryRequested: (bytes / GIB) * hours }, pricing);
}

interface ServiceWork {
  ws: WebService & KubernetesObject;
  mode: 'recommend' | 'auto';
  team: string;
  namespace: string;
  name: string;
  deployment: V1Deployment;
  rec: RecommendationObject | undefined;
}

/** Copies the defined fields only (the records are written back with server-side apply). */
const defined = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as Partial<T>;

const recordedOf = (rec: RecommendationObject | undefined): RecordedLifecycle => {
  const st = rec?.status ?? {};
  const applied = rec?.spec?.applied ?? {};
  const rb = st.lastRollback;
  return defined({
    state: st.state,
    since: st.since,
    applied: applied.containers?.length ? applied.containers : undefined,
    previous: applied.previous?.containers?.length ? applied.previous.containers : undefined,
    appliedSince: applied.since,
    watchUntil: st.watchUntil,
    holdUntil: st.holdUntil,
    lastRollback: rb?.time ? { time: rb.time, reason: rb.reason ?? '', message: rb.message ?? '' } : undefined,
  });
};

type StatusContainer = NonNullable<NonNullable<RecommendationObject['status']>['containers']>[number];

/** One container's part of a run: its status entry and, when recommended, its verdict. */
interface ContainerResult {
  status: StatusContainer;
  insufficient?: { daysOfData: number; daysNeeded: number };
  recommended?: { name: string; cpu?: string; memory?: string };
  stableDays?: number;
  stable?: boolean;
  differs?: boolean;
  /** cores and bytes: current, recommended */
  current: { cpu?: number; memory?: number };
  next?: { cpu?: number; memory: number };
}

const quantities = (r: { cpu?: number | undefined; memory?: number | undefined }): { cpu?: string; memory?: string } =>
  defined({ cpu: r.cpu !== undefined ? formatCpu(r.cpu) : undefined, memory: r.memory !== undefined ? formatBytes(r.memory) : undefined });

/** Folds the containers' results into the run's verdict (all insufficient -> the least data; else the weakest stability). */
function verdictOf(results: readonly ContainerResult[]): RunVerdict {
  const short = results.filter((r) => r.insufficient).map((r) => r.insufficient!);
  if (short.length) return { kind: 'insufficient', ...short.reduce((a, b) => (a.daysOfData <= b.daysOfData ? a : b)) };
  const days = results.map((r) => r.stableDays ?? 0);
  return {
    kind: 'recommended',
    recommended: results.flatMap((r) => (r.recommended ? [r.recommended] : [])),
    stableDays: days.length ? Math.min(...days) : 0,
    stable: results.every((r) => r.stable),
    differs: results.some((r) => r.differs),
  };
}

/** Does the live stable Deployment run the applied requests (and no canary)? */
function liveMatches(c: Caches, w: ServiceWork, applied: ContainerRequests | undefined): boolean {
  const canary = c.deployments.getByName(`${w.name}-canary`, w.namespace);
  if ((canary?.spec?.replicas ?? 0) > 0) return false;
  const containers = w.deployment.spec?.template?.spec?.containers ?? [];
  return (applied ?? []).every((a) => {
    const live = containers.find((x) => x.name === a.name)?.resources?.requests;
    return (a.cpu === undefined || q(live?.['cpu']) === q(a.cpu)) && (a.memory === undefined || q(live?.['memory']) === q(a.memory));
  });
}

/** The engine (see the module header). */
export class RightsizingEngine {
  private running = false;
  private readonly settings: RightsizingSettings;
  private readonly caches: Caches;
  private readonly now: () => Date;
  /** Queries sent by this engine (benchmarks). */
  readonly stats = { queries: 0, runs: 0 };

  constructor(private readonly opts: EngineOptions) {
    this.settings = opts.settings ?? DEFAULT_SETTINGS;
    this.caches = engineInformers(opts);
    this.now = opts.now ?? (() => new Date());
  }

  /** The informers to start (already in the factory). */
  informers(): Array<Informer<KubernetesObject>> {
    return Object.values(this.caches) as unknown as Array<Informer<KubernetesObject>>;
  }

  /** The Recommendation cache (the API's route reads it). */
  recommendationCache(): Informer<RecommendationObject> {
    return this.caches.recommendations;
  }

  isRunning(): boolean {
    return this.running;
  }

  /** One run; never two at once. */
  async run(): Promise<RunReport> {
    if (this.running) {
      this.opts.metrics.runs.inc({ outcome: 'skipped' });
      this.opts.logger.warn('rightsizing: a run is already in progress; this one does not start');
      return { outcome: 'skipped', services: 0, written: 0, queries: 0, message: 'a run is already in progress' };
    }
    this.running = true;
    const started = process.hrtime.bigint();
    try {
      const report = await this.runOnce();
      this.opts.metrics.runs.inc({ outcome: report.outcome });
      this.opts.logger.info({ ...report, durationMs: Number(process.hrtime.bigint() - started) / 1e6 }, 'rightsizing run');
      return report;
    } catch (err) {
      this.opts.metrics.runs.inc({ outcome: 'failed' });
      this.opts.logger.error({ err: describeError(err) }, 'rightsizing run failed');
      return { outcome: 'failed', services: 0, written: 0, queries: 0, message: describeError(err) };
    } finally {
      this.opts.metrics.runDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
      this.running = false;
      this.stats.runs += 1;
    }
  }

  /** Recommendations of services whose mode is off (found by work(), deleted by the run). */
  private stale: Array<{ namespace: string; name: string }> = [];

  private work(): ServiceWork[] {
    const out: ServiceWork[] = [];
    for (const ws of this.caches.webServices.list()) {
      if (ws.metadata?.deletionTimestamp) continue;
      const namespace = ws.metadata?.namespace ?? '';
      const name = ws.metadata?.name ?? '';
      const teamName = this.opts.teamOfNamespace?.(namespace) ?? namespace;
      const mode = modeOf(ws, this.opts.team?.(teamName), this.opts.defaultMode ?? 'off');
      const deployment = this.caches.deployments.getByName(name, namespace);
      if (mode === 'off') {
        // Off again: the Recommendation goes, so nothing it applied stays in the pod template.
        const stale = this.caches.recommendations.getByName(name, namespace);
        if (stale) this.stale.push({ namespace, name });
        continue;
      }
      if (!deployment) continue;
      out.push({ ws, mode, team: teamName, namespace, name, deployment, rec: this.caches.recommendations.getByName(name, namespace) });
    }
    return out;
  }

  private async runOnce(): Promise<RunReport> {
    const at = this.now();
    this.stale = [];
    const work = this.work();
    for (const r of this.stale) {
      const writer = this.opts.writerFor?.(r.namespace) ?? this.opts.clients;
      await writer.delete({ apiVersion: RECOMMENDATION_API_VERSION, kind: RECOMMENDATION_KIND, ...r })
        .catch((err: unknown) => this.opts.logger.warn({ err, ...r }, 'could not delete the Recommendation of a service whose rightsizing is off'));
    }
    if (work.length === 0) return { outcome: 'idle', services: 0, written: 0, queries: 0 };
    let usage;
    const before = this.stats.queries;
    try {
      this.stats.queries += 5;
      usage = await queryUsage(this.opts.prometheus, this.settings, at);
    } catch (err) {
      return { outcome: 'prometheus-unavailable', services: work.length, written: 0, queries: this.stats.queries - before, message: `Prometheus: ${describeError(err)}; nothing changed` };
    }
    if (usage.size === 0) return { outcome: 'no-data', services: work.length, written: 0, queries: 5, message: 'Prometheus returned no usage at all; nothing changed' };
    const decided: Array<{ w: ServiceWork; plan: LifecyclePlan; desired: RecommendationObject }> = [];
    try {
      for (const w of work) decided.push(await this.decide(w, usage, at));
    } catch (err) {
      // A watch query failed: nothing is written (all or nothing per run).
      return { outcome: 'prometheus-unavailable', services: work.length, written: 0, queries: this.stats.queries - before, message: `Prometheus: ${describeError(err)}; nothing changed` };
    }
    let written = 0;
    for (const d of decided) written += (await this.write(d)) ? 1 : 0;
    this.updateGauges(decided.map((d) => d.desired));
    return { outcome: 'completed', services: work.length, written, queries: this.stats.queries - before };
  }

  /** One container: recommend, judge stability. */
  private container(w: ServiceWork, c: V1Container, u: ContainerUsage | undefined, cpuHpa: boolean): ContainerResult {
    const s = this.settings;
    const spec = normalizeSpec(w.ws.spec);
    const cur = defined({ cpu: q(c.resources?.requests?.['cpu']), memory: q(c.resources?.requests?.['memory']) });
    const developerLimits = defined({ cpu: q(spec.overrides?.resources?.limits?.cpu), memory: q(spec.overrides?.resources?.limits?.memory) });
    const usage = u ?? { namespace: w.namespace, webService: w.name, container: c.name, daily: [] };
    const r = recommendContainer(s.recommend, { usage, runtime: spec.runtime, bounds: boundsOf(this.caches, w.namespace, developerLimits), cpuHpa });
    const current = quantities(cur);
    if (r.kind === 'insufficient') return { status: { name: c.name, current, daily: [] }, insufficient: r, current: cur };
    const next = defined({ cpu: r.cpu, memory: r.memory }) as { cpu?: number; memory: number };
    const v = assessStability(s.stability, next, cur, r.daily);
    const rec = quantities(next);
    return {
      status: {
        name: c.name,
        current,
        recommended: rec,
        summary: { cpu: `${current.cpu ?? '-'} -> ${rec.cpu ?? '-'}`, memory: `${current.memory ?? '-'} -> ${rec.memory ?? '-'}` },
        ...(r.notes.length ? { notes: r.notes } : {}),
        daily: r.daily.slice(-s.historyDays).map((d) => defined({ day: d.day, cpu: d.cpu, memory: d.memory }) as { day: string }),
      },
      recommended: { name: c.name, ...rec },
      ...v,
      current: cur,
      next,
    };
  }

  private clusterView(w: ServiceWork, recorded: RecordedLifecycle, at: Date): ClusterView {
    const phase = (w.ws.status)?.rollout?.phase;
    return {
      rolloutInProgress: phase === 'Progressing' || phase === 'Paused' || phase === 'Promoting',
      rolledBack: phase === 'RolledBack',
      liveMatchesApplied: liveMatches(this.caches, w, recorded.applied),
      windowOpen: isInApplyWindow(windowOf(w.ws, this.settings.window), at),
    };
  }

  /** Recommendation, stability and lifecycle of one WebService (the watch queries are its only I/O). */
  private async decide(w: ServiceWork, usage: Map<string, ContainerUsage>, at: Date) {
    const cpuHpa = hasCpuHpa(this.caches.hpas.getByName(w.name, w.namespace));
    const results = (w.deployment.spec?.template?.spec?.containers ?? []).map((c) => this.container(w, c, usage.get(`${w.namespace}/${w.name}/${c.name}`), cpuHpa));
    const verdict = verdictOf(results);
    const replicas = w.deployment.spec?.replicas ?? 1;
    const savings = results.reduce(
      (sum, r) => sum + (r.next ? monthlyCost(this.pricing(), r.current.cpu ?? 0, r.current.memory ?? 0, replicas) - monthlyCost(this.pricing(), r.next.cpu ?? r.current.cpu ?? 0, r.next.memory, replicas) : 0),
      0,
    );
    const recorded = recordedOf(w.rec);
    const watch = w.mode === 'auto' && recorded.state === 'Watching' ? await this.watchVerdict(w, recorded, at) : undefined;
    const plan = planLifecycle({ mode: w.mode, now: at, settings: this.settings, recorded, verdict, cluster: this.clusterView(w, recorded, at), ...(watch ? { watch } : {}) });
    return { w, plan, desired: this.desired(w, plan, results.map((r) => r.status), verdict, savings) };
  }

  private pricing(): Pricing {
    return this.opts.pricing ?? DEFAULT_PRICING;
  }

  /** Latency, errors, OOM kills and throttling since the promotion, against the 14 days before the apply. */
  private async watchVerdict(w: ServiceWork, r: RecordedLifecycle, at: Date): Promise<WatchVerdict> {
    const s = this.settings.watch;
    const since = Date.parse(r.appliedSince ?? '') || at.getTime() - s.windowSeconds * 1000;
    const wq = watchQueries(w.namespace, w.name, s.windowSeconds, this.opts.watchTemplates);
    const now = Math.floor(at.getTime() / 1000);
    const value = async (query: string, t: number): Promise<number | undefined> => {
      this.stats.queries += 1;
      const v = (await this.opts.prometheus.instantQuery(query, t))[0]?.points.at(-1)?.[1];
      return v === undefined || !Number.isFinite(v) ? undefined : v;
    };
    const baselineAt = Math.floor(since / 1000);
    const [latNow, latBefore, errNow, errBefore, ooms, throttled] = await Promise.all([
      value(wq.latency(wq.window), now),
      value(wq.latency('14d'), baselineAt),
      value(wq.errorRate(wq.window), now),
      value(wq.errorRate('14d'), baselineAt),
      value(wq.oomKills, now),
      value(wq.throttling, now),
    ]);
    if (ooms !== undefined && ooms > 0) return { regressed: true, reason: 'OOMKilled', message: `${Math.round(ooms)} OOM kill(s) since the new requests` };
    if (latNow !== undefined && latBefore !== undefined && latNow > latBefore * (1 + s.latencyThreshold)) {
      return { regressed: true, reason: 'LatencyRegression', message: `p99 latency ${latNow.toFixed(3)} s against ${latBefore.toFixed(3)} s in the 14 days before (threshold +${Math.round(s.latencyThreshold * 100)}%)` };
    }
    if (errNow !== undefined && errNow - (errBefore ?? 0) > s.errorRateThreshold) {
      return { regressed: true, reason: 'ErrorRateRegression', message: `error rate ${(errNow * 100).toFixed(2)}% against ${((errBefore ?? 0) * 100).toFixed(2)}% before` };
    }
    if (throttled !== undefined && throttled > s.throttlingThreshold) {
      return { regressed: true, reason: 'CPUThrottling', message: `${Math.round(throttled * 100)}% of CPU periods throttled (threshold ${Math.round(s.throttlingThreshold * 100)}%)` };
    }
    return { regressed: false };
  }

  private desired(w: ServiceWork, p: LifecyclePlan, containers: StatusContainer[], v: RunVerdict, savings: number): RecommendationObject {
    const applied = p.applied?.length
      ? {
          applied: {
            ...(p.appliedSince ? { since: p.appliedSince } : {}),
            containers: [...p.applied],
            ...(p.previous?.length ? { previous: { containers: [...p.previous] } } : {}),
          },
        }
      : {};
    return {
      apiVersion: RECOMMENDATION_API_VERSION,
      kind: RECOMMENDATION_KIND,
      metadata: {
        name: w.name,
        namespace: w.namespace,
        labels: { [Labels.managedBy]: MANAGED_BY, [Labels.service]: w.name, [Labels.component]: 'rightsizing' },
        ownerReferences: [{ apiVersion: PAVED_API_VERSION, kind: 'WebService', name: w.name, uid: w.ws.metadata?.uid ?? '', controller: true, blockOwnerDeletion: false }],
      },
      spec: { webService: w.name, mode: w.mode, ...applied },
      status: {
        state: p.state,
        reason: p.reason,
        message: p.message.slice(0, 1024),
        ...(p.since ? { since: p.since } : {}),
        team: w.team,
        ...(v.kind === 'insufficient' ? { daysOfData: v.daysOfData, daysNeeded: v.daysNeeded } : { daysOfData: this.settings.recommend.windowDays, daysNeeded: this.settings.recommend.windowDays, stableDays: v.stableDays }),
        projectedMonthlySavings: Math.round(savings * 100) / 100,
        currency: this.pricing().currency,
        ...(p.watchUntil ? { watchUntil: p.watchUntil } : {}),
        ...(p.holdUntil ? { holdUntil: p.holdUntil } : {}),
        ...(p.lastRollback ? { lastRollback: p.lastRollback } : {}),
        containers,
      },
    };
  }

  /** Server-side apply of one Recommendation (skipped when it already matches); Events and counters on transitions. */
  private async write(d: { w: ServiceWork; plan: LifecyclePlan; desired: RecommendationObject }): Promise<boolean> {
    const { w, plan } = d;
    const writer = this.opts.writerFor?.(w.namespace) ?? this.opts.clients;
    try {
      const res = await applyObject(writer, d.desired as KubernetesObject, { fieldManager: FieldManagers.rightsizing, current: (w.rec as KubernetesObject | undefined) ?? null });
      if (!res.sent) return false;
    } catch (err) {
      if (isNotFound(err)) return false; // the WebService went meanwhile
      throw err;
    }
    if (plan.appliedNow) this.opts.metrics.applied.inc({ namespace: w.namespace });
    if (plan.rolledBackNow) this.opts.metrics.rolledBack.inc({ namespace: w.namespace, reason: plan.rolledBackNow });
    for (const e of plan.events) await this.opts.events.event(w.ws, { type: e.type, reason: e.reason, note: e.message });
    return true;
  }

  private updateGauges(recs: RecommendationObject[]): void {
    const m = this.opts.metrics;
    for (const state of RecommendationStates) m.recommendations.set({ state }, recs.filter((r) => r.status?.state === state).length);
    for (const r of recs) {
      const ns = r.metadata?.namespace ?? '';
      const ws = r.spec.webService;
      m.projectedSavings.set({ team: r.status?.team ?? '', namespace: ns, webservice: ws }, r.status?.projectedMonthlySavings ?? 0);
      for (const c of r.status?.containers ?? []) {
        const cpu = q(c.recommended?.cpu);
        const mem = q(c.recommended?.memory);
        if (cpu !== undefined) m.recommendedRequest.set({ namespace: ns, webservice: ws, container: c.name, resource: 'cpu' }, cpu);
        if (mem !== undefined) m.recommendedRequest.set({ namespace: ns, webservice: ws, container: c.name, resource: 'memory' }, mem);
      }
    }
  }
}
