/**
 * Intent versus reality for one WebService: a pure projection of the WebService object and the
 * Deployments and HTTPRoute that carry its tracks. No clock and no I/O: `now` and the previous view come
 * in as arguments, so the stream and the REST routes show the same thing for the same inputs.
 *
 * Intent is what was asked: spec and the step the delivery plan wants. Reality is what the cluster shows:
 * observedGeneration, revisions, the weights actually on the route, ready pods per track, the latest
 * analysis measurements, conditions, and whether the two agree (`converged`) and since when not.
 *
 * `status.rollout` and the delivery steps are read through src/delivery's rollout reader (the typed
 * RolloutState, the steps with spec.ts's defaults): this module applies no rollout defaults of its own.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { AnalysisRun } from '../analysis/types.js';
import { latestAnalysisRun, readRollout as readRolloutState, readRolloutOf } from '../delivery/rollout-reader.js';
import type { RolloutState } from '../delivery/types.js';

/** What was asked. */
export interface Intent {
  generation: number | null;
  image: string | null;
  /** The pod-template revision the controller is driving towards. */
  revision: string | null;
  /** Index of the delivery step the plan is at (null when no rollout is in progress). */
  step: number | null;
  stepCount: number;
  /** The canary weight the plan wants now (0 when no rollout is in progress). */
  weight: number | null;
  replicas: { min: number | null; max: number | null };
}

/** One analysis measurement. */
export interface Measurement {
  metric: string;
  template: string | null;
  /** The canary's value (null: no data or error). */
  value: number | null;
  /** The stable track's value, for comparisons. */
  stableValue: number | null;
  phase: string | null;
  at: string | null;
}

/** One status condition. */
export interface ConditionView {
  type: string;
  status: string;
  reason: string | null;
  message: string | null;
  lastTransitionTime: string | null;
}

/** What the cluster shows. */
export interface Reality {
  observedGeneration: number | null;
  phase: string | null;
  stableRevision: string | null;
  canaryRevision: string | null;
  /** Weights on the HTTPRoute's backendRefs, as written on the route (null without a route). */
  routeWeights: { stable: number; canary: number } | null;
  readyPods: { stable: number; canary: number };
  analysis: Measurement[];
  /** The rollout's own message (why paused, what it waits for). */
  message: string | null;
  /** Why the last rollout was rolled back: metric, value, threshold, query, when (src/delivery's FailureReport). */
  failure: unknown;
  conditions: ConditionView[];
  converged: boolean;
  /** RFC 3339 time since when `converged` has been false (null when converged). */
  notConvergedSince: string | null;
}

/** Both sides for one service. `key` is `namespace/name`. */
export interface ServiceView {
  key: string;
  namespace: string;
  name: string;
  team: string;
  intent: Intent;
  reality: Reality;
}

/** The objects a view is made from. */
export interface ViewInputs {
  webService: KubernetesObject;
  team: string;
  deployments?: ReadonlyArray<KubernetesObject>;
  route?: KubernetesObject;
}

type Loose = Record<string, unknown>;
const MAX_MEASUREMENTS = 16;
const CONVERGED_PHASES = new Set(['', 'healthy', 'succeeded', 'completed', 'promoted', 'stable']);

function rec(v: unknown): Loose {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Loose) : {};
}
function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}
function first<T>(...values: Array<T | null>): T | null {
  for (const v of values) if (v !== null) return v;
  return null;
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** `status.rollout` as src/delivery's RolloutState, or `{}` when there is none (the REST detail). */
export function readRollout(ws: KubernetesObject): RolloutState | Record<string, never> {
  return readRolloutState(ws) ?? {};
}

/** The rollout history (bounded by the controller) for the REST view. */
export function readRolloutHistory(ws: KubernetesObject): unknown[] {
  return readRolloutState(ws)?.history ?? [];
}

const ACTIVE_ROLLOUT = (phase: string | null): boolean => phase !== null && !CONVERGED_PHASES.has(phase.toLowerCase());

function readIntent(ws: KubernetesObject, phase: string | null): Intent {
  const spec = rec((ws as Loose)['spec']);
  const status = rec((ws as Loose)['status']);
  const scaling = rec(spec['scaling']);
  const { state, stepCount } = readRolloutOf(ws);
  const active = ACTIVE_ROLLOUT(phase);
  return {
    generation: num(ws.metadata?.generation),
    image: str(spec['image']),
    revision: first(
      str(status['revision']),
      active ? str(state?.canaryRevision) : null,
      str(state?.stableRevision),
    ),
    step: active ? (state?.stepIndex ?? null) : null,
    stepCount,
    // `status.rollout.weight` is the planner's weight in effect: the route follows it.
    weight: active ? (state?.weight ?? null) : 0,
    replicas: { min: num(scaling['minReplicas']), max: num(scaling['maxReplicas']) },
  };
}

function isCanary(obj: KubernetesObject): boolean {
  const track = obj.metadata?.labels?.['paved.dev/track'];
  if (track) return track === 'canary';
  return (obj.metadata?.name ?? '').endsWith('-canary');
}

function readReadyPods(deployments: ReadonlyArray<KubernetesObject>): { stable: number; canary: number } {
  const out = { stable: 0, canary: 0 };
  for (const d of deployments) {
    const ready = num(rec((d as Loose)['status'])['readyReplicas']) ?? 0;
    if (isCanary(d)) out.canary += ready;
    else out.stable += ready;
  }
  return out;
}

function readRouteWeights(route: KubernetesObject | undefined): { stable: number; canary: number } | null {
  if (!route) return null;
  const rules = arr(rec((route as Loose)['spec'])['rules']);
  const refs = arr(rec(rules[0])['backendRefs']);
  if (refs.length === 0) return null;
  const out = { stable: 0, canary: 0 };
  for (const r of refs) {
    const ref = rec(r);
    const weight = num(ref['weight']) ?? 1;
    if ((str(ref['name']) ?? '').endsWith('-canary')) out.canary += weight;
    else out.stable += weight;
  }
  return out;
}

/** The latest measurement of each metric of the current analysis run (else of the last finished one). */
function readMeasurements(run: AnalysisRun | undefined): Measurement[] {
  const out: Measurement[] = [];
  for (const metric of arr(run?.metrics) as AnalysisRun['metrics']) {
    const ms = arr(metric.measurements) as AnalysisRun['metrics'][number]['measurements'];
    const last = ms[ms.length - 1];
    out.push({
      metric: str(metric.name) ?? '',
      template: str(metric.template),
      value: num(last?.value),
      stableValue: num(last?.stableValue),
      phase: first(str(last?.phase), str(metric.phase)),
      at: str(last?.at),
    });
  }
  return out.slice(0, MAX_MEASUREMENTS);
}

function readConditions(ws: KubernetesObject): ConditionView[] {
  return arr(rec((ws as Loose)['status'])['conditions']).map((c) => {
    const x = rec(c);
    return {
      type: str(x['type']) ?? '',
      status: str(x['status']) ?? 'Unknown',
      reason: str(x['reason']),
      message: str(x['message']),
      lastTransitionTime: str(x['lastTransitionTime']),
    };
  });
}

/** Decides whether reality matches intent. */
export function isConverged(intent: Intent, reality: Omit<Reality, 'converged' | 'notConvergedSince'>): boolean {
  if (intent.generation === null || reality.observedGeneration !== intent.generation) return false;
  if (ACTIVE_ROLLOUT(reality.phase)) return false;
  const ready = reality.conditions.find((c) => c.type === 'Ready');
  if (ready && ready.status !== 'True') return false;
  if (reality.routeWeights && reality.routeWeights.canary > 0) return false;
  if (intent.revision && reality.stableRevision && intent.revision !== reality.stableRevision) return false;
  return true;
}

/**
 * Projects the inputs into a view. `previous` carries `notConvergedSince` forward; on first sight of a
 * non-converged service the Ready condition's transition time (when not True) is the best estimate.
 */
export function projectView(inputs: ViewInputs, now: string, previous?: ServiceView): ServiceView {
  const ws = inputs.webService;
  const rollout = readRolloutState(ws);
  const status = rec((ws as Loose)['status']);
  const phase = first(str(rollout?.phase), str(status['phase']));
  const intent = readIntent(ws, phase);
  const partial = {
    observedGeneration: num(status['observedGeneration']),
    phase,
    stableRevision: str(rollout?.stableRevision),
    canaryRevision: str(rollout?.canaryRevision),
    routeWeights: readRouteWeights(inputs.route),
    readyPods: readReadyPods(inputs.deployments ?? []),
    analysis: readMeasurements(latestAnalysisRun(rollout)),
    message: str(rollout?.message),
    failure: rollout?.failure ?? null,
    conditions: readConditions(ws),
  };
  const converged = isConverged(intent, partial);
  let notConvergedSince: string | null = null;
  if (!converged) {
    const ready = partial.conditions.find((c) => c.type === 'Ready' && c.status !== 'True');
    notConvergedSince = previous?.reality.notConvergedSince ?? ready?.lastTransitionTime ?? now;
  }
  const namespace = ws.metadata?.namespace ?? '';
  const name = ws.metadata?.name ?? '';
  return {
    key: `${namespace}/${name}`,
    namespace,
    name,
    team: inputs.team,
    intent,
    reality: { ...partial, converged, notConvergedSince },
  };
}
