/**
 * Intent versus reality for one WebService: a pure projection of the WebService object and the
 * Deployments and HTTPRoute that carry its tracks. No clock and no I/O: `now` and the previous view come
 * in as arguments, so the stream and the REST routes show the same thing for the same inputs.
 *
 * Intent is what was asked: spec and the step the delivery plan wants. Reality is what the cluster shows:
 * observedGeneration, revisions, the weights actually on the route, ready pods per track, the latest
 * analysis measurements, conditions, and whether the two agree (`converged`) and since when not.
 *
 * `status.rollout` is src/delivery's RolloutState; it is read defensively (a field missing or of another
 * type reads as null, never as a throw) because an old controller may have written an older shape.
 */
import type { KubernetesObject } from '@kubernetes/client-node';

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

/** `status.rollout` (src/delivery's RolloutState), read tolerantly. */
export function readRollout(ws: KubernetesObject): Loose {
  return rec(rec((ws as Loose)['status'])['rollout']);
}

/** The rollout history (bounded by the controller) for the REST view. */
export function readRolloutHistory(ws: KubernetesObject): unknown[] {
  return arr(readRollout(ws)['history']);
}

/** The weight each step sets; pause and analysis steps keep the previous weight. */
function stepWeights(steps: unknown[]): number[] {
  let current = 0;
  return steps.map((s) => {
    const step = rec(s);
    const w = num(step['setWeight']) ?? num(step['weight']);
    if (w !== null) current = w;
    return current;
  });
}

const ACTIVE_ROLLOUT = (phase: string | null): boolean => phase !== null && !CONVERGED_PHASES.has(phase.toLowerCase());

function readIntent(ws: KubernetesObject, rollout: Loose, phase: string | null): Intent {
  const spec = rec((ws as Loose)['spec']);
  const status = rec((ws as Loose)['status']);
  const scaling = rec(spec['scaling']);
  const steps = arr(rec(spec['delivery'])['steps']);
  const weights = stepWeights(steps.length > 0 ? steps : [{ setWeight: 10 }, { setWeight: 50 }, { setWeight: 100 }]);
  const active = ACTIVE_ROLLOUT(phase);
  const stepIndex = active ? first(num(rollout['stepIndex']), num(rollout['currentStepIndex'])) : null;
  const plannedWeight = stepIndex !== null ? (weights[Math.min(stepIndex, weights.length - 1)] ?? null) : active ? null : 0;
  return {
    generation: num(ws.metadata?.generation),
    image: str(spec['image']),
    revision: first(
      str(status['revision']),
      active ? str(rollout['canaryRevision']) : null,
      str(rollout['stableRevision']),
    ),
    step: stepIndex,
    stepCount: num(rollout['stepCount']) ?? weights.length,
    // `status.rollout.weight` is the planner's weight in effect: the route follows it.
    weight: active ? first(num(rollout['weight']), plannedWeight) : 0,
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
    if (String(ref['name'] ?? '').endsWith('-canary')) out.canary += weight;
    else out.stable += weight;
  }
  return out;
}

/** The latest measurement of each metric of the current analysis run (else of the last finished one). */
function readMeasurements(rollout: Loose): Measurement[] {
  const history = arr(rollout['history']);
  const run = rec(rollout['currentRun'] ?? history[history.length - 1]);
  const out: Measurement[] = [];
  for (const m of arr(run['metrics'])) {
    const metric = rec(m);
    const ms = arr(metric['measurements']);
    const last = rec(ms[ms.length - 1]);
    out.push({
      metric: str(metric['name']) ?? '',
      template: str(metric['template']),
      value: num(last['value']),
      stableValue: num(last['stableValue']),
      phase: first(str(last['phase']), str(metric['phase'])),
      at: str(last['at']),
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
  const rollout = readRollout(ws);
  const status = rec((ws as Loose)['status']);
  const phase = first(str(rollout['phase']), str(status['phase']));
  const intent = readIntent(ws, rollout, phase);
  const partial = {
    observedGeneration: num(status['observedGeneration']),
    phase,
    stableRevision: str(rollout['stableRevision']),
    canaryRevision: str(rollout['canaryRevision']),
    routeWeights: readRouteWeights(inputs.route),
    readyPods: readReadyPods(inputs.deployments ?? []),
    analysis: readMeasurements(rollout),
    message: str(rollout['message']),
    failure: rollout['failure'] ?? null,
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
