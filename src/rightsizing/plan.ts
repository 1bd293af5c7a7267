/**
 * The lifecycle of one Recommendation (pure): the recorded state, this run's recommendation and
 * stability, and what the cluster shows (the rollout of the WebService, the live requests, the
 * watch verdict) in; the next state, the applied requests and the Events out.
 *
 *   Collecting --enough data--> Recommended --auto, stable, differs--> Stable --window open, no rollout--> Applying
 *   Applying --promoted (live requests = applied)--> Watching --watch window passed--> Applied
 *   Applying --analysis failed-->  RolledBack (previous requests restored, held back)
 *   Watching --latency / errors / OOM / throttling--> RolledBack --> HeldBack until the cooling period ends
 *
 * Level-triggered: the same inputs give the same output, so a run interrupted by a restart repeats
 * safely (the applied requests are recorded before the rollout starts, by the reconcile of the
 * WebService, which reads them from the cluster).
 */
import type { RecommendationState, RightsizingMode, RightsizingSettings } from './types.js';

/** Requests per container as quantities. */
export type ContainerRequests = ReadonlyArray<{ name: string; cpu?: string; memory?: string }>;

/** What the Recommendation recorded last time. */
export interface RecordedLifecycle {
  state?: RecommendationState;
  since?: string;
  applied?: ContainerRequests;
  /** What was applied before the current apply (undefined: the spec's own). */
  previous?: ContainerRequests;
  appliedSince?: string;
  watchUntil?: string;
  holdUntil?: string;
  lastRollback?: { time: string; reason: string; message: string };
}

/** This run's verdict on the recommendation. */
export type RunVerdict =
  | { kind: 'insufficient'; daysOfData: number; daysNeeded: number; resource?: 'cpu' | 'memory' }
  | { kind: 'recommended'; recommended: ContainerRequests; stableDays: number; stable: boolean; differs: boolean };

/** What the cluster shows about the WebService. */
export interface ClusterView {
  /** A rollout runs (Progressing, Paused, Promoting). */
  rolloutInProgress: boolean;
  /** The last rollout failed its analysis and rolled back (phase RolledBack). */
  rolledBack: boolean;
  /** The stable Deployment runs the applied requests and no canary runs. */
  liveMatchesApplied: boolean;
  /** Inside the apply window now. */
  windowOpen: boolean;
}

/** The watch's verdict after a promotion (only when asked: state Watching). */
export type WatchVerdict = { regressed: false } | { regressed: true; reason: string; message: string };

export interface PlanInput {
  mode: Exclude<RightsizingMode, 'off'>;
  now: Date;
  settings: RightsizingSettings;
  recorded: RecordedLifecycle;
  verdict: RunVerdict;
  cluster: ClusterView;
  watch?: WatchVerdict;
}

export interface LifecycleEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface LifecyclePlan extends RecordedLifecycle {
  state: RecommendationState;
  reason: string;
  message: string;
  events: LifecycleEvent[];
  /** Counted once, on the transition. */
  appliedNow: boolean;
  rolledBackNow?: string;
}

const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const plus = (d: Date, seconds: number): string => iso(new Date(d.getTime() + seconds * 1000));
const describe = (r: ContainerRequests | undefined): string =>
  r?.length ? r.map((c) => `${c.name}: ${[c.cpu && `cpu ${c.cpu}`, c.memory && `memory ${c.memory}`].filter(Boolean).join(', ')}`).join('; ') : "the spec's own requests";

/** Keeps what carries over; sets the state and its reason. */
function next(input: PlanInput, state: RecommendationState, reason: string, message: string, changes: Partial<LifecyclePlan> = {}): LifecyclePlan {
  const r = input.recorded;
  const changed = r.state !== state;
  const base: LifecyclePlan = {
    ...r,
    state,
    reason,
    message,
    events: [],
    appliedNow: false,
    since: changed || !r.since ? iso(input.now) : r.since,
    ...changes,
  };
  if (changed && base.events.length === 0) base.events = [{ type: state === 'RolledBack' || state === 'HeldBack' ? 'Warning' : 'Normal', reason: `Rightsizing${state}`, message }];
  return base;
}

/** Restores the previous requests: a rollback through a rollout, then held back for the cooling period. */
function rollBack(input: PlanInput, reason: string, message: string): LifecyclePlan {
  const r = input.recorded;
  const restored = r.previous;
  const text = `${message}; restoring ${describe(restored)}; recommendations held back until ${plus(input.now, input.settings.watch.coolingSeconds)}`;
  const { previous: _p, watchUntil: _w, ...rest } = r;
  return {
    ...rest,
    ...(restored?.length ? { applied: restored, appliedSince: iso(input.now) } : { applied: undefined, appliedSince: undefined }),
    state: 'RolledBack',
    reason,
    message: text,
    since: iso(input.now),
    holdUntil: plus(input.now, input.settings.watch.coolingSeconds),
    lastRollback: { time: iso(input.now), reason, message },
    events: [{ type: 'Warning', reason: 'RightsizingRolledBack', message: text }],
    appliedNow: false,
    rolledBackNow: reason,
  };
}

function planApplying(input: PlanInput): LifecyclePlan {
  const { cluster, settings, now } = input;
  if (cluster.rolledBack) return rollBack(input, 'AnalysisFailed', 'the rollout of the applied requests failed its analysis');
  if (cluster.liveMatchesApplied && !cluster.rolloutInProgress) {
    const until = plus(now, settings.watch.windowSeconds);
    return next(input, 'Watching', 'Promoted', `promoted; watching latency, errors, OOM kills and throttling until ${until}`, { watchUntil: until });
  }
  return next(input, 'Applying', 'RollingOut', `rolling out ${describe(input.recorded.applied)} through the canary`);
}

function planWatching(input: PlanInput): LifecyclePlan {
  const w = input.watch;
  if (w?.regressed) return rollBack(input, w.reason, w.message);
  const until = input.recorded.watchUntil;
  if (until && input.now.getTime() >= Date.parse(until)) {
    const { watchUntil: _w, ...rest } = input.recorded;
    return next({ ...input, recorded: rest }, 'Applied', 'WatchPassed', `applied ${describe(input.recorded.applied)}; no regression in the watch window`);
  }
  return next(input, 'Watching', 'Promoted', `promoted; watching until ${until ?? '?'}`);
}

/** The recommendation itself: report it, or start an apply when everything allows. */
function planRecommendation(input: PlanInput): LifecyclePlan {
  const { verdict: v, cluster, settings, mode, recorded } = input;
  if (v.kind === 'insufficient') {
    const of = v.resource === 'cpu' ? `CPU usage history (no usage rate: is the scrape interval more than half the rate window ${settings.rateWindow}?)` : v.resource === 'memory' ? 'memory usage history' : 'usage history';
    return next(input, 'Collecting', 'InsufficientData', `insufficient data: ${v.daysOfData} of ${v.daysNeeded} days of ${of}`);
  }
  const steady = recorded.state === 'Applied' ? 'Applied' : 'Recommended';
  if (mode === 'recommend') return next(input, 'Recommended', 'RecommendOnly', `recommended ${describe(v.recommended)} (mode recommend: not applied)`);
  if (!v.differs) return next(input, steady, 'WithinThreshold', `recommended ${describe(v.recommended)}: within ${Math.round(settings.stability.changeThreshold * 100)}% of the current requests`);
  if (!v.stable) return next(input, 'Recommended', 'NotStable', `recommended ${describe(v.recommended)}: stable ${v.stableDays} of ${settings.stability.stableDays} days`);
  if (cluster.rolloutInProgress) return next(input, 'Stable', 'RolloutInProgress', 'stable; waiting for the rollout in progress to finish');
  if (!cluster.windowOpen) return next(input, 'Stable', 'OutsideApplyWindow', 'stable; waiting for the apply window');
  const message = `applying ${describe(v.recommended)} (was ${describe(recorded.applied)}) through a canary`;
  return {
    ...next(input, 'Applying', 'Applying', message),
    applied: v.recommended,
    previous: recorded.applied,
    appliedSince: iso(input.now),
    appliedNow: true,
    events: [{ type: 'Normal', reason: 'RightsizingApplying', message }],
  };
}

/**
 * Only auto applies: a service moved to recommend keeps its Recommendation, but what it applied is no
 * longer recorded (its render ignored it at once, and the spec's requests rolled out through the
 * canary), so a later auto starts over from the stability rule, the window and a canary. A hold stays.
 */
function leaveAuto(input: PlanInput): PlanInput {
  const { applied: _a, previous: _p, appliedSince: _s, watchUntil: _w, ...kept } = input.recorded;
  return { ...input, recorded: kept };
}

/** The next lifecycle of a Recommendation (see the module header). */
export function planLifecycle(planInput: PlanInput): LifecyclePlan {
  const left = planInput.mode !== 'auto' && planInput.recorded.applied !== undefined;
  const input = planInput.mode === 'auto' ? planInput : leaveAuto(planInput);
  const r = input.recorded;
  if (left) {
    const p = planLifecycle(input);
    const message = `${p.message}; mode ${planInput.mode}: the requests it applied are no longer rendered (the spec's own roll out through the canary)`;
    return { ...p, message, events: [{ type: 'Normal', reason: 'RightsizingNotApplied', message }] };
  }
  if (input.mode === 'auto' && r.state === 'Applying') return planApplying(input);
  if (input.mode === 'auto' && r.state === 'Watching') return planWatching(input);
  if ((r.state === 'RolledBack' || r.state === 'HeldBack') && r.holdUntil && input.now.getTime() < Date.parse(r.holdUntil)) {
    return next(input, 'HeldBack', r.lastRollback?.reason ?? 'HeldBack', `held back after a rollback (${r.lastRollback?.message ?? 'rolled back'}) until ${r.holdUntil}`);
  }
  const { holdUntil: _h, ...rest } = r;
  return planRecommendation({ ...input, recorded: r.state === 'RolledBack' || r.state === 'HeldBack' ? rest : r });
}
