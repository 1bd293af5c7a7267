/**
 * The shapes of progressive delivery: the normalized delivery spec, what the reconciler observes,
 * the rollout state kept in `status.rollout` of the WebService (everything needed to resume after a
 * restart lives there), and what the planner decides.
 */
import type { AdvanceRule } from '../analysis/assess.js';
import type { AnalysisRun, Measurement, ResolvedMetric, TemplateRef } from '../analysis/types.js';

/** One step of `spec.delivery.steps`, normalized. */
export type Step =
  | { readonly setWeight: number }
  | { readonly pause: { readonly durationMs?: number } }
  | { readonly analysis: { readonly templates: readonly TemplateRef[] } };

/** `spec.delivery` with defaults applied (see spec.ts). */
export interface DeliverySpec {
  readonly steps: readonly Step[];
  /**
   * Background analysis (`delivery.analysis` with explicit steps): measured continuously from step
   * `startingStep` until promotion; a failure rolls back, no data or errors pause.
   */
  readonly background?: { readonly templates: readonly TemplateRef[]; readonly startingStep: number };
  readonly progressDeadlineMs: number;
  readonly scaleDownDelayMs: number;
  /** When an analysis lets a step advance (`spec.delivery.advanceRule`); absent: RequireLatestSuccess. */
  readonly advanceRule?: AdvanceRule;
}

/** How traffic is split between stable and canary. */
export type TrafficMode = 'gatewayAPI' | 'replicas';

/** What the reconciler saw of a Deployment (stable `<name>` or canary `<name>-canary`). */
export interface DeploymentObservation {
  /** The pod template's revision (the hash the renderer stamps on it). */
  readonly revision?: string;
  /** spec.replicas (for the stable Deployment: what its HPA decided). */
  readonly replicas: number;
  /** status.replicas: every pod of the Deployment, old and new. */
  readonly statusReplicas: number;
  readonly updatedReplicas: number;
  /** status.readyReplicas: Ready pods of every ReplicaSet, the previous template's included. */
  readonly readyReplicas: number;
  /**
   * Ready pods of the ReplicaSets running `revision` only. A rolling update keeps the previous
   * template's pods Ready until the new ones are, so `readyReplicas` alone would count them as the new
   * revision's (a spec change while a canary serves, or a release inside the scale-down delay).
   */
  readonly revisionReadyReplicas: number;
  readonly generation: number;
  readonly observedGeneration: number;
}

/** Everything the planner needs to know about the world, gathered by the reconciler. */
export interface Observations {
  readonly namespace: string;
  readonly service: string;
  /** The revision of the pod template the spec asks for now (`status.revision` of the renderer). */
  readonly desiredRevision: string;
  /** The live stable Deployment; absent before the first deploy. */
  readonly stable?: DeploymentObservation;
  /** The live canary Deployment; absent when there is none. */
  readonly canary?: DeploymentObservation;
  readonly trafficMode: TrafficMode;
  /** The value of the `paved.dev/rollout-action` annotation, if set. */
  readonly action?: string;
  /** The canary's weight on the live HTTPRoute (Gateway API mode), when known. */
  readonly routeWeight?: number;
  /** The metrics of each analysis step (by step index), or why they could not be resolved. */
  readonly analysis?: ReadonlyMap<number, StepAnalysis>;
  /** Measurements just taken of the current run's due metrics, by metric name. */
  readonly measurements?: ReadonlyMap<string, Measurement>;
  /** The metrics of the background analysis, or why they could not be resolved. */
  readonly background?: StepAnalysis;
  /** Measurements just taken of the background run's due metrics, by metric name. */
  readonly backgroundMeasurements?: ReadonlyMap<string, Measurement>;
  /**
   * While paused because Prometheus did not answer: whether it answers the paused run's queries again
   * (a value or no data), probed by the reconciler when `outageProbeDue` says so. Absent: not probed.
   */
  readonly providerAnswers?: boolean;
}

/** The resolved metrics of one analysis step, or why they could not be resolved. */
export type StepAnalysis = { readonly metrics: readonly ResolvedMetric[] } | { readonly error: string };

export type RolloutPhase = 'Healthy' | 'Progressing' | 'Paused' | 'Promoting' | 'RolledBack';

export type PauseReason = 'PauseStep' | 'Manual' | 'Inconclusive' | 'AnalysisError' | 'InvalidAnalysis';

export type RollbackReason = 'AnalysisFailed' | 'Aborted' | 'ProgressDeadlineExceeded';

/** Why a rollout was rolled back: which metric, its value, the threshold, the query and when. */
export interface FailureReport {
  reason: RollbackReason;
  message: string;
  at: string;
  metric?: string;
  template?: string;
  value?: number;
  stableValue?: number;
  condition?: string;
  query?: string;
  measuredAt?: string;
}

/** `status.rollout`: the whole rollout state. */
export interface RolloutState {
  phase: RolloutPhase;
  message?: string;
  /** The revision the stable Deployment runs (the last promoted one). */
  stableRevision: string;
  /** The revision under rollout (or the last one rolled out / rolled back). */
  canaryRevision?: string;
  /** Index into the delivery steps of the current step. */
  stepIndex: number;
  /** Number of steps of the rollout (for display: step stepIndex+1 of stepCount). */
  stepCount?: number;
  /** The canary's share of traffic (percent) in effect now: the route weights follow this. */
  weight: number;
  startedAt?: string;
  stepStartedAt?: string;
  pauseReason?: PauseReason;
  pausedAt?: string;
  /** Promotion stage: the stable Deployment is taking the new template (traffic still on the canary). */
  promotingSince?: string;
  completedAt?: string;
  rolledBackAt?: string;
  /** The canary keeps its pods until then after a promotion (so in-flight requests finish). */
  canaryScaleDownAt?: string;
  /** A revision that was rolled back: not retried until the spec changes or someone asks for a retry. */
  failedRevision?: string;
  failure?: FailureReport;
  /** The analysis run of the current step. */
  currentRun?: AnalysisRun;
  /** The background analysis run (spec.delivery.analysis with explicit steps). */
  backgroundRun?: AnalysisRun;
  /** Analysis attempts at the current step (a resume after an inconclusive run starts a new attempt). */
  attempt: number;
  /** Finished analysis runs, newest last, at most MAX_HISTORY. */
  history: AnalysisRun[];
  /** The last `paved.dev/rollout-action` value acted upon (so that it is acted upon once). */
  handledAction?: string;
}

/** Finished runs kept in status. */
export const MAX_HISTORY = 10;

/** The annotation carrying manual controls (kubectl annotate ws/NAME paved.dev/rollout-action=promote). */
export const ROLLOUT_ACTION_ANNOTATION = 'paved.dev/rollout-action';

export type RolloutVerb = 'promote' | 'promote-full' | 'abort' | 'retry' | 'pause' | 'resume';

/** One write, in the order the reconciler must perform them. */
export type Action =
  /**
   * The stable Deployment runs `revision`, with the template taken from: 'stable' its own live
   * template (kept during a rollout), 'desired' the freshly rendered one, 'canary' the live canary's
   * (a promotion whose revision is no longer the desired one).
   */
  | { readonly type: 'applyStable'; readonly template: 'stable' | 'desired' | 'canary'; readonly revision: string }
  /**
   * The canary Deployment has `replicas` pods (0 = scaled down) of `revision`, with the template
   * 'desired' (rendered now) or 'live' (its current one, when it only scales).
   */
  | { readonly type: 'applyCanary'; readonly template: 'desired' | 'live'; readonly revision: string; readonly replicas: number }
  /** The route sends `weight` percent to the canary Service and the rest to the stable one. */
  | { readonly type: 'setWeight'; readonly weight: number };

/**
 * Event reasons of delivery (PascalCase). To be merged into src/kube/reasons.ts (Reasons), which is
 * not this module's file; kept here meanwhile so that no reason is a bare literal.
 */
export { DeliveryReasons } from '../kube/reasons.js';

export interface RolloutEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

/** Facts for the rollout metrics (pure data; src/delivery/metrics.ts records them). */
export type RolloutRecord =
  | { readonly kind: 'started' }
  | { readonly kind: 'stepCompleted'; readonly step: number; readonly stepType: string; readonly durationMs: number }
  | { readonly kind: 'analysis'; readonly metric: string; readonly template: string; readonly phase: string }
  | { readonly kind: 'succeeded'; readonly leadTimeMs: number; readonly timeToRestoreMs?: number }
  | { readonly kind: 'rolledBack'; readonly reason: RollbackReason; readonly failureOnsetToRollbackMs?: number }
  | { readonly kind: 'paused'; readonly reason: PauseReason };

/** The planner's decision. */
export interface Plan {
  readonly state: RolloutState;
  /** Writes that bring the world to `state`, in order; idempotent (server-side apply). */
  readonly actions: readonly Action[];
  readonly events: readonly RolloutEvent[];
  readonly records: readonly RolloutRecord[];
  /** Reconcile again after this long at the latest (a timed pause, a due measurement, a deadline). */
  readonly requeueAfterMs?: number;
}
