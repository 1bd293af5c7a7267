/**
 * A tiny simulated world for the rollout planner: two Deployments whose pods become Ready one tick
 * after a change (or never, for a crash-looping canary), a route weight, a metrics source and the
 * WebService status. `reconcile()` does what the rollout step of the WebService reconcile does (src/webservice/rollout-step.ts) (measure due metrics,
 * plan, write status, apply the actions in order) and checks the safety invariants at every write.
 */
import { expect } from 'vitest';
import { dueMetrics, judge } from '../../src/analysis/assess.js';
import { metricSpecSchema, type MetricSpec, type ProviderResult, type ResolvedMetric } from '../../src/analysis/types.js';
import { canaryServes, outageRun, plan } from '../../src/delivery/plan.js';
import { canaryReplicas } from '../../src/delivery/scaling.js';
import type { Action, DeliverySpec, DeploymentObservation, Plan, RolloutState, Step, TrafficMode } from '../../src/delivery/types.js';

export const T0 = new Date('2026-01-01T00:00:00Z');

export function metric(over: Partial<MetricSpec> = {}): MetricSpec {
  return metricSpecSchema.parse({ name: 'error-rate', query: 'q{track="{{track}}"}', max: 0.01, interval: '2s', count: 2, failureLimit: 1, ...over });
}

export const analysisStep: Step = { analysis: { templates: [{ name: 'error-rate', clusterScope: true }] } };

export function deliverySpec(over: Partial<DeliverySpec> = {}): DeliverySpec {
  return {
    steps: [{ setWeight: 10 }, analysisStep, { setWeight: 50 }, analysisStep, { setWeight: 100 }],
    progressDeadlineMs: 60_000,
    scaleDownDelayMs: 10_000,
    ...over,
  };
}

interface Deployment {
  revision: string;
  replicas: number;
  /** Ready pods of every ReplicaSet: a rolling update keeps the previous template's pods Ready. */
  ready: number;
  /** Ready pods of `revision` only. */
  revisionReady: number;
  updated: number;
  statusReplicas: number;
  generation: number;
  observedGeneration: number;
}

export interface WriteRecord {
  at: number;
  action: Action;
  phase: string;
  stableRevision: string;
}

export class World {
  now = T0;
  desiredRevision = 'r1';
  stable: Deployment | undefined;
  canary: Deployment | undefined;
  routeWeight = 0;
  status: RolloutState | undefined;
  action: string | undefined;
  crashCanary = false;
  hpaReplicas = 4;
  mode: TrafficMode = 'gatewayAPI';
  metrics: ResolvedMetric[] = [{ template: 'ClusterAnalysisTemplate/error-rate', metric: metric() }];
  analysisError: string | undefined;
  /** Metrics of the background analysis (spec.background). */
  backgroundMetrics: ResolvedMetric[] = [{ template: 'ClusterAnalysisTemplate/bg', metric: metric({ name: 'bg-error-rate', count: 3 }) }];
  /** The canary's and the stable track's results, by metric name. */
  result: (metric: string, track: 'canary' | 'stable') => ProviderResult = () => ({ kind: 'value', value: 0 });
  writes: WriteRecord[] = [];
  weights: number[] = [];
  plans: Plan[] = [];
  queries = 0;

  constructor(public spec: DeliverySpec = deliverySpec()) {}

  private observe(d: Deployment | undefined): DeploymentObservation | undefined {
    if (!d) return undefined;
    return {
      revision: d.revision,
      replicas: d.replicas,
      statusReplicas: d.statusReplicas,
      updatedReplicas: d.updated,
      readyReplicas: d.ready,
      revisionReadyReplicas: d.revisionReady,
      generation: d.generation,
      observedGeneration: d.observedGeneration,
    };
  }

  /** One reconcile: measure, plan, persist status (JSON, as the API server would), write. */
  reconcile(): Plan {
    const measurements = new Map();
    const run = this.status?.currentRun;
    if (run && this.status?.phase === 'Progressing') {
      for (const name of dueMetrics(run, this.now)) {
        const m = this.metrics.find((r) => r.metric.name === name)!.metric;
        this.queries += m.comparison ? 2 : 1;
        const stable = m.comparison ? this.result(name, 'stable') : undefined;
        measurements.set(name, judge(m, this.result(name, 'canary'), stable, this.now.toISOString()));
      }
    }
    const backgroundMeasurements = new Map();
    const bgRun = this.status?.backgroundRun;
    // As the reconciler: background readings only while the canary serves traffic.
    if (bgRun && this.status?.phase === 'Progressing' && canaryServes(this.status, { canary: this.observe(this.canary) })) {
      for (const name of dueMetrics(bgRun, this.now)) {
        const m = this.backgroundMetrics.find((r) => r.metric.name === name)!.metric;
        this.queries += 1;
        backgroundMeasurements.set(name, judge(m, this.result(name, 'canary'), undefined, this.now.toISOString()));
      }
    }
    // As the reconciler: paused on a Prometheus outage, probe the paused run's queries.
    const down = outageRun(this.status);
    const providerAnswers = down ? down.metrics.filter((m) => m.phase === 'Error').every((m) => this.result(m.name, 'canary').kind !== 'error') : undefined;
    if (down) this.queries += 1;
    const one = this.analysisError !== undefined ? { error: this.analysisError } : { metrics: this.metrics };
    const analysis = new Map(this.spec.steps.flatMap((s, i) => ('analysis' in s ? [[i, one] as const] : [])));
    const p = plan(
      this.status,
      {
        namespace: 'shop',
        service: 'cart',
        desiredRevision: this.desiredRevision,
        ...(this.stable ? { stable: this.observe(this.stable)! } : {}),
        ...(this.canary ? { canary: this.observe(this.canary)! } : {}),
        trafficMode: this.mode,
        ...(this.action !== undefined ? { action: this.action } : {}),
        analysis,
        routeWeight: this.routeWeight,
        ...(this.spec.background ? { background: { metrics: this.backgroundMetrics }, backgroundMeasurements } : {}),
        measurements,
        ...(providerAnswers !== undefined ? { providerAnswers } : {}),
      },
      this.spec,
      this.now,
    );
    this.status = JSON.parse(JSON.stringify(p.state)) as RolloutState;
    for (const a of p.actions) this.apply(a);
    this.plans.push(p);
    return p;
  }

  private apply(a: Action): void {
    this.writes.push({ at: this.now.getTime(), action: a, phase: this.status!.phase, stableRevision: this.status!.stableRevision });
    if (a.type === 'applyStable') {
      const revision = a.template === 'desired' ? this.desiredRevision : a.template === 'canary' ? this.canary!.revision : this.stable!.revision;
      expect(revision, 'applyStable names the revision its template has').toBe(a.revision);
      if (!this.stable) {
        this.stable = { revision, replicas: this.hpaReplicas, ready: 0, revisionReady: 0, updated: 0, statusReplicas: 0, generation: 1, observedGeneration: 0 };
      } else if (this.stable.revision !== revision) {
        this.stable = { ...this.stable, revision, updated: 0, revisionReady: 0, generation: this.stable.generation + 1 };
      }
      return;
    }
    if (a.type === 'applyCanary') {
      const revision = a.template === 'desired' ? this.desiredRevision : (this.canary?.revision ?? a.revision);
      expect(revision).toBe(a.revision);
      const c = this.canary;
      if (!c) {
        this.canary = { revision, replicas: a.replicas, ready: 0, revisionReady: 0, updated: 0, statusReplicas: 0, generation: 1, observedGeneration: 0 };
      } else if (c.revision !== revision || c.replicas !== a.replicas) {
        const same = c.revision === revision;
        this.canary = {
          revision,
          replicas: a.replicas,
          // A new template: the previous one's pods stay Ready until the new ones are (maxUnavailable 0).
          ready: same ? Math.min(c.ready, a.replicas) : c.ready,
          revisionReady: same ? Math.min(c.revisionReady, a.replicas) : 0,
          updated: same ? Math.min(c.updated, a.replicas) : 0,
          statusReplicas: c.statusReplicas,
          generation: c.generation + 1,
          observedGeneration: c.observedGeneration,
        };
      }
      return;
    }
    // setWeight: the safety invariants of traffic.
    const stableReplicas = this.stable?.replicas ?? 0;
    if (a.weight > this.routeWeight) {
      const need = canaryReplicas(stableReplicas, a.weight, this.mode);
      expect(this.canary?.revisionReady ?? 0, `canary pods of the new revision Ready before the weight rises to ${a.weight}`).toBeGreaterThanOrEqual(need);
      expect(this.canary?.revision).toBe(this.status?.canaryRevision);
    }
    if (a.weight < 100 && this.canary) expect(this.stable?.ready ?? 0, 'stable serves whatever the canary does not').toBeGreaterThan(0);
    if (this.routeWeight === 100 && a.weight === 0 && this.status?.phase === 'Healthy') {
      expect(this.stable?.revision, 'traffic returns only to a stable running the new template').toBe(this.status.stableRevision);
      expect(this.stable?.updated).toBe(this.stable?.replicas);
    }
    if (a.weight !== this.routeWeight) this.weights.push(a.weight);
    this.routeWeight = a.weight;
  }

  /**
   * Time passes: pods start (new canary pods never become Ready when crash-looping, and the previous
   * template's pods then stay, as a rolling update with maxUnavailable 0 keeps them); the HPA's count holds.
   */
  tick(ms: number): void {
    this.now = new Date(this.now.getTime() + ms);
    for (const key of ['stable', 'canary'] as const) {
      const d = this[key];
      if (!d) continue;
      const crash = key === 'canary' && this.crashCanary;
      const replicas = key === 'stable' ? this.hpaReplicas : d.replicas;
      this[key] = {
        ...d,
        replicas,
        ready: crash ? Math.min(d.ready - d.revisionReady, replicas) : replicas,
        revisionReady: crash ? 0 : replicas,
        updated: replicas,
        statusReplicas: replicas,
        generation: key === 'stable' && replicas !== d.replicas ? d.generation + 1 : d.generation,
        observedGeneration: key === 'stable' && replicas !== d.replicas ? d.generation + 1 : d.generation,
      };
    }
  }

  /** Reconciles and lets time pass (the requeue, at most `maxStepMs`) until `done` or `limit` rounds. */
  runUntil(done: (w: World) => boolean, limit = 200, maxStepMs = 1000): void {
    for (let i = 0; i < limit; i++) {
      const p = this.reconcile();
      if (done(this)) return;
      this.tick(Math.max(1, Math.min(p.requeueAfterMs ?? maxStepMs, maxStepMs)));
    }
    throw new Error(`not done after ${limit} rounds: ${JSON.stringify(this.status, null, 1).slice(0, 2000)}`);
  }

  /** Deploys the first revision and settles. */
  boot(): this {
    this.reconcile();
    this.tick(1000);
    this.reconcile();
    return this;
  }

  elapsedMs(): number {
    return this.now.getTime() - T0.getTime();
  }
}
