/**
 * The rollout step of the WebService reconcile: the delivery decision for one WebService, taken in the
 * same pass that renders and applies it. In this order:
 * observe (the desired final pod template and its revision, the live stable and canary Deployments and
 * their ReplicaSets, the HTTPRoute weight and the rollout-action annotation, from the shared caches; the
 * rollout state recorded in status) -> resolve the analysis templates of the steps (src/analysis) ->
 * measure the due metrics of the current and background runs (`measureAnalysis`: the only Prometheus
 * I/O of paved's reconciles; the provider never throws) -> plan (the pure state machine of
 * src/delivery) -> the render input of the decided state (`renderInputFor`).
 *
 * It writes nothing: the reconcile renders with `input`, applies, and writes `decision.plan.state` as
 * `status.rollout` in its one status write, then emits the plan's Events.
 */
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { dueMetrics } from '../analysis/assess.js';
import { measureMetric } from '../analysis/measure.js';
import type { MetricsProvider } from '../analysis/prometheus-provider.js';
import type { TemplateSource } from '../analysis/template-source.js';
import type { AnalysisRun, Measurement } from '../analysis/types.js';
import { canaryName, desiredPodTemplate, readRolloutState } from '../delivery/observe.js';
import { canaryServes, outageRun, plan } from '../delivery/plan.js';
import { observeFromCaches, renderInputFor, type DeliveryCaches } from '../delivery/render-input.js';
import { normalizeDelivery } from '../delivery/spec.js';
import type { Observations, Plan, RolloutState, StepAnalysis } from '../delivery/types.js';
import type { RenderContext, RolloutRenderInput, WebService } from './render/index.js';

/** What the rollout step reads and counts. */
export interface RolloutStepDeps {
  provider: MetricsProvider;
  templates: TemplateSource;
  caches: DeliveryCaches;
  /** Measurements taken (queries sent to Prometheus), for the benchmark. */
  stats: { measurements: number };
}

/** The decision of one pass. */
export interface RolloutDecision {
  /** The rollout state in status before this pass (absent: none yet). */
  prev: RolloutState | undefined;
  plan: Plan;
  /** The rollout's part of the render. */
  input: RolloutRenderInput;
}

/**
 * Takes the due measurements of a run (the current step's or the background one): the analysis I/O.
 * Only while the rollout progresses on the run's canary revision.
 */
export async function measureAnalysis(
  deps: Pick<RolloutStepDeps, 'provider' | 'stats'>,
  target: { namespace: string; service: string; state: RolloutState | undefined },
  run: AnalysisRun | undefined,
  resolved: StepAnalysis | undefined,
  at: Date,
): Promise<Map<string, Measurement>> {
  const { state } = target;
  const out = new Map<string, Measurement>();
  if (!state || state.phase !== 'Progressing' || !run || run.revision !== state.canaryRevision) return out;
  if (!resolved || 'error' in resolved) return out;
  const measureTarget = { namespace: target.namespace, service: target.service, canaryRevision: run.revision, stableRevision: state.stableRevision };
  await Promise.all(
    dueMetrics(run, at).map(async (name) => {
      const metric = resolved.metrics.find((r) => r.metric.name === name)?.metric;
      if (!metric) return;
      deps.stats.measurements += 1;
      out.set(name, await measureMetric(deps.provider, metric, measureTarget, at));
    }),
  );
  return out;
}

/** While paused on a Prometheus outage: does Prometheus answer the paused run's queries again? */
async function probeOutage(deps: Pick<RolloutStepDeps, 'provider' | 'stats'>, state: RolloutState | undefined): Promise<boolean | undefined> {
  const run = outageRun(state);
  if (!run) return undefined;
  const results = await Promise.all(run.metrics.filter((m) => m.phase === 'Error').map((m) => deps.provider.query(m.query)));
  deps.stats.measurements += results.length;
  return results.every((r) => r.kind !== 'error');
}

/** The observations of this pass: the caches, the analysis templates and the measurements due. */
async function observeRollout(
  deps: RolloutStepDeps,
  ws: WebService,
  rctx: RenderContext,
  desiredRevision: string,
  prev: RolloutState | undefined,
  at: Date,
): Promise<Observations> {
  const spec = normalizeDelivery(ws.spec.delivery);
  const namespace = ws.metadata?.namespace ?? '';
  const service = ws.metadata?.name ?? '';
  const analysis = deps.templates.resolveSteps(spec, namespace);
  const background = spec.background ? deps.templates.resolve(spec.background.templates, namespace, 'spec.delivery.analysis') : undefined;
  const seen = observeFromCaches(ws, rctx, deps.caches, desiredRevision);
  // Background analysis reads the canary only while it serves traffic (see canaryServes).
  const backgroundDue = prev !== undefined && canaryServes(prev, seen);
  const target = { namespace, service, state: prev };
  const [measurements, backgroundMeasurements, providerAnswers] = await Promise.all([
    measureAnalysis(deps, target, prev?.currentRun, prev?.currentRun ? analysis.get(prev.currentRun.stepIndex) : undefined, at),
    backgroundDue ? measureAnalysis(deps, target, prev?.backgroundRun, background, at) : Promise.resolve(new Map<string, Measurement>()),
    probeOutage(deps, prev),
  ]);
  return {
    ...seen,
    ...(providerAnswers !== undefined ? { providerAnswers } : {}),
    analysis,
    measurements,
    ...(background ? { background, backgroundMeasurements } : {}),
  };
}

/**
 * The rollout decision of one pass (see the module header). Throws InvalidSpecError for a spec that
 * cannot be rendered or an invalid delivery spec, like the renderer.
 */
export async function decideRollout(deps: RolloutStepDeps, ws: WebService, rctx: RenderContext, at: Date): Promise<RolloutDecision> {
  const spec = normalizeDelivery(ws.spec.delivery);
  const desired = desiredPodTemplate(ws, rctx);
  const prev = readRolloutState(ws);
  const obs = await observeRollout(deps, ws, rctx, desired.revision, prev, at);
  const p = plan(prev, obs, spec, at);
  const namespace = ws.metadata?.namespace ?? '';
  const service = ws.metadata?.name ?? '';
  const live = (name: string): V1PodTemplateSpec | undefined => deps.caches.deployment(namespace, name)?.spec?.template;
  const input = renderInputFor(p.state, obs, spec, { desired: desired.template, liveStable: live(service), liveCanary: live(canaryName(service)) });
  return { prev, plan: p, input };
}
