/**
 * The rollout state machine. `plan(state, observations, spec, now)` is pure: it reads the rollout
 * state from `status.rollout`, what the reconciler observed and the normalized delivery spec, and
 * returns the next state, the writes that bring the world to it (in a safe order), Events, metric
 * records and when to look again. It never reads a clock and never does I/O; a measurement is an
 * observation taken by the reconciler just before.
 *
 * Phases: Healthy (stable serves, nothing to roll out) -> Progressing (the steps) <-> Paused (pause
 * step, manual, inconclusive or erroring analysis) -> Promoting (the stable Deployment takes the
 * new template while the canary still serves) -> Healthy; or -> RolledBack (failed analysis, abort,
 * progress deadline) until the spec changes or someone asks for a retry.
 *
 * Safety rules, each covered by a unit test:
 * - the route weight only ever follows `state.weight`, which rises only after the canary pods for
 *   the new weight are Ready (pods of the new revision: older ones a rolling update keeps do not
 *   count), and drops to 0 at promotion only after the stable Deployment is Ready with the new
 *   template (so at no moment does neither side serve);
 * - background analysis measures only while the canary serves traffic; a step advances only on a
 *   successful latest measurement (advanceRule RequireLatestSuccess);
 * - a pause on a Prometheus outage resumes by itself once Prometheus answers; one on no data waits;
 * - a rollback sets weight 0 (all traffic to the stable, which never changed) and scales the canary
 *   to 0 after the route write;
 * - everything is in the state, so a restarted controller re-derives the same writes: it resumes at
 *   the same step and never moves traffic backwards.
 */
import {
  applyMeasurements,
  isProviderUnavailable,
  newMetricRun,
  nextMeasurementAt,
} from '../analysis/assess.js';
import { queryVars } from '../analysis/measure.js';
import { renderQuery } from '../analysis/render-query.js';
import type { AnalysisRun, MetricRun, ResolvedMetric } from '../analysis/types.js';
import { canaryReplicas } from './scaling.js';
import {
  DeliveryReasons,
  MAX_HISTORY,
  type Action,
  type DeliverySpec,
  type DeploymentObservation,
  type FailureReport,
  type Observations,
  type PauseReason,
  type Plan,
  type RollbackReason,
  type RolloutEvent,
  type RolloutRecord,
  type RolloutState,
  type RolloutVerb,
  type Step,
} from './types.js';

/** How often to look at pods while waiting for them (informer events usually come first). */
export const POLL_MS = 5_000;

/** Parses a `paved.dev/rollout-action` value: "promote", "promote --full", "promote-full", "abort", ... (an optional "@id" suffix makes a repeated action distinct). */
export function parseAction(value: string): RolloutVerb | undefined {
  const v = value.trim().toLowerCase().split('@')[0]?.trim() ?? '';
  if (/^promote([-_: ]+|\s+--)full$/.test(v)) return 'promote-full';
  const verbs: readonly RolloutVerb[] = ['promote', 'abort', 'retry', 'pause', 'resume'];
  return verbs.find((verb) => verb === v);
}

/**
 * True when the canary Deployment runs `revision` with at least `want` Ready pods OF THAT REVISION:
 * pods of the previous template that a rolling update keeps Ready do not count (like isStableReady).
 */
export function isCanaryReady(canary: DeploymentObservation | undefined, revision: string | undefined, want: number): boolean {
  if (!canary || canary.revision !== revision) return false;
  return (
    canary.observedGeneration >= canary.generation &&
    canary.replicas >= want &&
    canary.updatedReplicas >= want &&
    canary.revisionReadyReplicas >= want
  );
}

/**
 * True when the canary serves traffic: a weight above 0 and Ready pods of its own revision. Background
 * analysis measures only then (before, every reading would be "no data" and pause the rollout).
 */
export function canaryServes(state: RolloutState, obs: Pick<Observations, 'canary'>): boolean {
  return state.weight > 0 && canaryRevisionReady(obs.canary, state.canaryRevision) > 0;
}

/** Ready pods of the canary revision under rollout (0 when the canary Deployment runs another one). */
export function canaryRevisionReady(canary: DeploymentObservation | undefined, revision: string | undefined): number {
  return canary && canary.revision === revision ? canary.revisionReadyReplicas : 0;
}

/** True when the stable Deployment runs only `revision`, all of its pods Ready. */
export function isStableReady(stable: DeploymentObservation | undefined, revision: string | undefined): boolean {
  if (!stable || stable.revision !== revision) return false;
  return (
    stable.observedGeneration >= stable.generation &&
    stable.updatedReplicas >= stable.replicas &&
    stable.readyReplicas >= stable.replicas &&
    stable.statusReplicas <= stable.updatedReplicas
  );
}

function describeStep(step: Step): string {
  if ('setWeight' in step) return `setWeight ${step.setWeight}`;
  if ('pause' in step) return step.pause.durationMs === undefined ? 'pause' : `pause ${step.pause.durationMs / 1000}s`;
  return `analysis ${step.analysis.templates.map((t) => t.name).join(',')}`;
}

function stepType(step: Step): string {
  return 'setWeight' in step ? 'setWeight' : 'pause' in step ? 'pause' : 'analysis';
}

/** Probing a Prometheus outage: first after this long, then backing off (a quarter of the outage so far)... */
export const OUTAGE_PROBE_MIN_MS = 2_000;
/** ...up to this. */
export const OUTAGE_PROBE_MAX_MS = 60_000;

/**
 * The analysis run a rollout is paused on because Prometheus did not answer (its erroring metrics' last
 * measurements say "Prometheus unavailable"), or undefined. Such a pause resumes by itself once
 * Prometheus answers; a pause on no data, or on a query Prometheus rejects, waits for someone.
 */
export function outageRun(state: RolloutState | undefined): AnalysisRun | undefined {
  if (state?.phase !== 'Paused' || state.pauseReason !== 'AnalysisError') return undefined;
  const run = state.history.at(-1);
  if (!run || run.phase !== 'Error') return undefined;
  const erroring = run.metrics.filter((m) => m.phase === 'Error');
  return erroring.length > 0 && erroring.every((m) => isProviderUnavailable(m.measurements.at(-1))) ? run : undefined;
}

/** How long after `pausedAt` to probe Prometheus again (backoff from the pause's age). Pure. */
export function outageProbeAfterMs(state: RolloutState, now: Date): number {
  const age = state.pausedAt === undefined ? 0 : now.getTime() - Date.parse(state.pausedAt);
  return Math.min(OUTAGE_PROBE_MAX_MS, Math.max(OUTAGE_PROBE_MIN_MS, Math.floor(age / 4)));
}

/** The mutable working set of one planning pass (local to `plan`, never shared). */
class Planner {
  state: RolloutState;
  readonly events: RolloutEvent[] = [];
  readonly records: RolloutRecord[] = [];
  requeueAfterMs: number | undefined;
  readonly nowIso: string;

  constructor(
    readonly prev: RolloutState,
    readonly obs: Observations,
    readonly spec: DeliverySpec,
    readonly now: Date,
  ) {
    this.state = structuredClone(prev);
    this.nowIso = now.toISOString();
  }

  private get stableReplicas(): number {
    return this.obs.stable?.replicas ?? 0;
  }

  private since(iso: string | undefined): number {
    return iso === undefined ? 0 : this.now.getTime() - Date.parse(iso);
  }

  requeue(ms: number): void {
    const v = Math.max(0, Math.ceil(ms));
    this.requeueAfterMs = this.requeueAfterMs === undefined ? v : Math.min(this.requeueAfterMs, v);
  }

  event(type: RolloutEvent['type'], reason: string, message: string): void {
    this.events.push({ type, reason, message });
  }

  // ---- transitions ----

  archiveRun(why: string): void {
    const run = this.state.currentRun;
    if (!run) return;
    const finished: AnalysisRun =
      run.phase === 'Running'
        ? { ...run, phase: 'Inconclusive', message: `abandoned: ${why}`, finishedAt: this.nowIso }
        : run;
    this.state.history = [...this.state.history, finished].slice(-MAX_HISTORY);
    delete this.state.currentRun;
  }

  /** Moves the background run (if any) to the history. */
  archiveBackground(why: string): void {
    const run = this.state.backgroundRun;
    if (!run) return;
    const finished: AnalysisRun =
      run.phase === 'Running' ? { ...run, phase: 'Inconclusive', message: `abandoned: ${why}`, finishedAt: this.nowIso } : run;
    this.state.history = [...this.state.history, finished].slice(-MAX_HISTORY);
    delete this.state.backgroundRun;
  }

  clearPause(): void {
    delete this.state.pauseReason;
    delete this.state.pausedAt;
  }

  startRollout(revision: string, why: string): void {
    this.archiveRun('a new rollout started');
    this.archiveBackground('a new rollout started');
    this.clearPause();
    const s = this.state;
    for (const k of ['failure', 'failedRevision', 'completedAt', 'canaryScaleDownAt', 'promotingSince'] as const) delete s[k];
    Object.assign(s, {
      phase: 'Progressing',
      canaryRevision: revision,
      stepIndex: 0,
      stepCount: this.spec.steps.length,
      weight: 0,
      attempt: 0,
      startedAt: this.nowIso,
      stepStartedAt: this.nowIso,
      message: `rolling out revision ${revision}`,
    } satisfies Partial<RolloutState>);
    this.records.push({ kind: 'started' });
    this.event('Normal', DeliveryReasons.RolloutStarted, `${why}: rolling out revision ${revision} in ${this.spec.steps.length} steps`);
  }

  pause(reason: PauseReason, message: string): void {
    const again = this.prev.phase === 'Paused' && this.prev.pauseReason === reason && this.prev.message === message;
    this.state.phase = 'Paused';
    this.state.pauseReason = reason;
    this.state.pausedAt = again ? (this.prev.pausedAt ?? this.nowIso) : this.nowIso;
    this.state.message = message;
    if (again) return;
    this.records.push({ kind: 'paused', reason });
    this.event(reason === 'PauseStep' || reason === 'Manual' ? 'Normal' : 'Warning', DeliveryReasons[`RolloutPaused${reason}`], message);
  }

  rollback(reason: RollbackReason, message: string, details: Partial<FailureReport> = {}, onsetIso?: string): void {
    this.archiveRun('rolled back');
    this.archiveBackground('rolled back');
    this.clearPause();
    const s = this.state;
    s.phase = 'RolledBack';
    s.weight = 0;
    if (s.canaryRevision !== undefined) s.failedRevision = s.canaryRevision;
    s.failure = { reason, message, at: this.nowIso, ...details };
    s.rolledBackAt = this.nowIso;
    s.message = message;
    delete s.canaryScaleDownAt;
    this.records.push({
      kind: 'rolledBack',
      reason,
      ...(onsetIso !== undefined ? { failureOnsetToRollbackMs: this.since(onsetIso) } : {}),
    });
    this.event('Warning', reason === 'Aborted' ? DeliveryReasons.RolloutAborted : DeliveryReasons.RolloutRolledBack, message);
  }

  completeStep(step: Step): void {
    this.records.push({
      kind: 'stepCompleted',
      step: this.state.stepIndex,
      stepType: stepType(step),
      durationMs: this.since(this.state.stepStartedAt),
    });
    this.state.stepIndex += 1;
    this.state.stepStartedAt = this.nowIso;
    this.state.attempt = 0;
  }

  startPromotion(why: string): void {
    this.archiveRun('promoted');
    this.archiveBackground('promoted');
    this.clearPause();
    this.state.phase = 'Promoting';
    this.state.promotingSince = this.nowIso;
    this.state.message = `promoting revision ${this.state.canaryRevision}: the stable Deployment takes the new template (${why})`;
    this.event('Normal', DeliveryReasons.RolloutPromoting, this.state.message);
  }

  // ---- manual controls ----

  handleAction(): void {
    const raw = this.obs.action;
    if (raw === undefined) {
      delete this.state.handledAction;
      return;
    }
    if (raw === this.state.handledAction) return;
    this.state.handledAction = raw;
    const verb = parseAction(raw);
    const phase = this.state.phase;
    const active = phase === 'Progressing' || phase === 'Paused';
    const ignore = (why: string) => this.event('Warning', DeliveryReasons.RolloutActionIgnored, `${raw}: ${why}`);
    switch (verb) {
      case undefined:
        return ignore('unknown action (use promote, promote --full, abort, retry, pause or resume)');
      case 'pause':
        if (phase !== 'Progressing') return ignore(`nothing to pause in phase ${phase}`);
        return this.pause('Manual', 'paused by request (paved.dev/rollout-action=pause)');
      case 'resume':
        return this.resume(ignore);
      case 'promote': {
        if (!active) return ignore(`nothing to promote in phase ${phase}`);
        const step = this.spec.steps[this.state.stepIndex];
        this.archiveRun('skipped by promote');
        this.clearPause();
        this.state.phase = 'Progressing';
        if (step) this.completeStep(step);
        this.event('Normal', DeliveryReasons.RolloutStepPromoted, `step ${this.state.stepIndex} of ${this.spec.steps.length} skipped by request`);
        return;
      }
      case 'promote-full':
        if (!active) return ignore(`nothing to promote in phase ${phase}`);
        return this.startPromotion('full promotion requested');
      case 'abort':
        if (!active) return ignore(`nothing to abort in phase ${phase}`);
        return this.rollback('Aborted', `revision ${this.state.canaryRevision} aborted by request; traffic is back on the stable revision`);
      case 'retry':
        if (phase !== 'RolledBack') return ignore(`only a rolled-back rollout can be retried (phase ${phase})`);
        return this.startRollout(this.obs.desiredRevision, 'retry requested');
    }
  }

  /** Paused because Prometheus did not answer: resume once it answers again, else probe again later. */
  handleOutage(): void {
    if (!outageRun(this.state)) return;
    if (this.obs.providerAnswers !== true) {
      this.requeue(outageProbeAfterMs(this.state, this.now));
      return;
    }
    this.clearPause();
    this.state.phase = 'Progressing';
    this.archiveRun('resumed');
    this.state.attempt += 1;
    this.state.stepStartedAt = this.nowIso;
    this.state.message = `Prometheus answers again: resumed at step ${this.state.stepIndex + 1} of ${this.spec.steps.length}`;
    this.event('Normal', DeliveryReasons.RolloutResumed, this.state.message);
  }

  resume(ignore: (why: string) => void): void {
    if (this.state.phase !== 'Paused') return ignore(`nothing to resume in phase ${this.state.phase}`);
    const reason = this.state.pauseReason;
    this.clearPause();
    this.state.phase = 'Progressing';
    const step = this.spec.steps[this.state.stepIndex];
    if (reason === 'PauseStep' && step) this.completeStep(step);
    else if (reason !== 'Manual') {
      // An inconclusive or erroring analysis is measured afresh; the old run stays in the history.
      this.archiveRun('resumed');
      this.state.attempt += 1;
      this.state.stepStartedAt = this.nowIso;
    }
    this.state.message = `resumed at step ${this.state.stepIndex + 1} of ${this.spec.steps.length}`;
    this.event('Normal', DeliveryReasons.RolloutResumed, this.state.message);
  }

  // ---- spec changes ----

  handleRevision(): void {
    const desired = this.obs.desiredRevision;
    const s = this.state;
    if (s.failedRevision !== undefined && desired !== s.failedRevision) delete s.failedRevision;
    // A promotion in flight finishes first: the stable Deployment is already taking that template.
    if (s.phase === 'Promoting') return;
    const active = s.phase === 'Progressing' || s.phase === 'Paused';
    if (desired === s.stableRevision) {
      if (active) {
        this.archiveRun('the spec went back to the stable revision');
        this.archiveBackground('the spec went back to the stable revision');
        this.clearPause();
        s.phase = 'Healthy';
        s.weight = 0;
        s.message = `the spec went back to the stable revision ${desired}; the canary was abandoned`;
        this.event('Normal', DeliveryReasons.RolloutAbandoned, s.message);
      } else if (s.phase === 'RolledBack') {
        s.phase = 'Healthy';
        s.message = `running the stable revision ${desired}`;
      }
      return;
    }
    if (active && s.canaryRevision === desired) return;
    if (s.phase === 'RolledBack' && desired === s.failedRevision) return;
    this.startRollout(desired, active ? `the spec changed during the rollout of ${s.canaryRevision}` : 'the pod template changed');
  }

  // ---- phases ----

  progress(): void {
    if (!this.background()) return;
    // Each pass either finishes a step and continues, or waits and returns.
    for (let guard = 0; guard <= this.spec.steps.length + 1 && this.state.phase === 'Progressing'; guard++) {
      const step = this.spec.steps[this.state.stepIndex];
      if (!step) return this.startPromotion('all steps passed');
      const done =
        'setWeight' in step ? this.stepWeight(step.setWeight) : 'pause' in step ? this.stepPause(step.pause.durationMs) : this.stepAnalysis();
      if (!done) return;
      this.completeStep(step);
    }
  }

  /** Scale the canary for the weight, wait until its pods are Ready, then move the weight. */
  stepWeight(weight: number): boolean {
    const want = canaryReplicas(this.stableReplicas, weight, this.obs.trafficMode);
    if (want === 0 || isCanaryReady(this.obs.canary, this.state.canaryRevision, want)) {
      if (weight !== this.state.weight) {
        this.event('Normal', DeliveryReasons.RolloutWeightSet, `canary weight ${this.state.weight}% -> ${weight}% (${want} canary pods Ready)`);
      }
      // Background analysis starts once the canary serves: look again at once rather than a step later.
      if (this.spec.background && this.state.weight === 0 && weight > 0) this.requeue(0);
      this.state.weight = weight;
      return true;
    }
    const waited = this.since(this.state.stepStartedAt);
    const ready = canaryRevisionReady(this.obs.canary, this.state.canaryRevision);
    if (waited >= this.spec.progressDeadlineMs) {
      this.rollback(
        'ProgressDeadlineExceeded',
        `the canary of revision ${this.state.canaryRevision} was not Ready within ${this.spec.progressDeadlineMs / 1000}s (${ready}/${want} pods Ready for ${weight}%)`,
      );
      return false;
    }
    this.state.message = `step ${this.state.stepIndex + 1}/${this.spec.steps.length}: waiting for ${want} canary pods to be Ready for ${weight}% (${ready} Ready)`;
    this.requeue(Math.min(POLL_MS, this.spec.progressDeadlineMs - waited));
    return false;
  }

  stepPause(durationMs: number | undefined): boolean {
    if (durationMs === undefined) {
      this.pause('PauseStep', `step ${this.state.stepIndex + 1}/${this.spec.steps.length}: paused until promoted or resumed`);
      return false;
    }
    const left = durationMs - this.since(this.state.stepStartedAt);
    if (left <= 0) return true;
    this.state.message = `step ${this.state.stepIndex + 1}/${this.spec.steps.length}: pausing for ${Math.ceil(left / 1000)}s more`;
    this.requeue(left);
    return false;
  }

  newRun(metrics: readonly ResolvedMetric[], background = false): AnalysisRun {
    const s = this.state;
    const revision = s.canaryRevision ?? '';
    const target = { namespace: this.obs.namespace, service: this.obs.service, canaryRevision: revision, stableRevision: s.stableRevision };
    return {
      id: `${revision.slice(0, 16)}-${background ? 'bg' : ''}${s.stepIndex}-${s.attempt}`,
      revision,
      stepIndex: s.stepIndex,
      phase: 'Running',
      startedAt: this.nowIso,
      metrics: metrics.map((r) => newMetricRun(r, renderQuery(r.metric.query, queryVars(r.metric, target, 'canary')), this.now)),
    };
  }

  stepAnalysis(): boolean {
    const s = this.state;
    const resolved = this.obs.analysis?.get(s.stepIndex);
    if (!resolved || 'error' in resolved) {
      this.pause('InvalidAnalysis', `step ${s.stepIndex + 1}: ${resolved ? resolved.error : 'analysis templates not resolved'}`);
      return false;
    }
    let run = s.currentRun;
    if (!run || run.stepIndex !== s.stepIndex || run.revision !== s.canaryRevision) {
      if (run) this.archiveRun('another step started');
      try {
        run = this.newRun(resolved.metrics);
      } catch (err) {
        this.pause('InvalidAnalysis', `step ${s.stepIndex + 1}: ${err instanceof Error ? err.message : String(err)}`);
        return false;
      }
      s.currentRun = run;
    } else if (this.obs.measurements && this.obs.measurements.size > 0) {
      const before = run;
      run = applyMeasurements(run, resolved.metrics, this.obs.measurements, this.now, this.spec.advanceRule);
      for (const m of run.metrics) {
        const was = before.metrics.find((b) => b.name === m.name);
        if (was?.phase === 'Running' && m.phase !== 'Running') {
          this.records.push({ kind: 'analysis', metric: m.name, template: m.template, phase: m.phase });
        }
      }
      s.currentRun = run;
    }
    return this.concludeRun(run);
  }

  concludeRun(run: AnalysisRun): boolean {
    const s = this.state;
    const where = `step ${s.stepIndex + 1}/${this.spec.steps.length}`;
    switch (run.phase) {
      case 'Running': {
        const due = nextMeasurementAt(run);
        if (due) this.requeue(due.getTime() - this.now.getTime());
        s.message = `${where}: analysing ${run.metrics.map((m) => `${m.name} ${m.successful}/${m.failed}/${m.inconclusive}`).join(', ')} (ok/failed/no data) at ${s.weight}%`;
        return false;
      }
      case 'Successful':
        this.event('Normal', DeliveryReasons.AnalysisSuccessful, `${where}: ${run.metrics.map((m) => m.name).join(', ')} passed at ${s.weight}%`);
        this.archiveRun('done');
        return true;
      case 'Failed':
        this.failRun(run);
        return false;
      case 'Inconclusive':
      case 'Error':
        this.archiveRun('paused');
        this.pauseOnRun(run, where);
        return false;
    }
  }

  pauseOnRun(run: AnalysisRun, where: string): void {
    const down = run.phase === 'Error' ? run.metrics.find((m) => m.phase === 'Error' && isProviderUnavailable(m.measurements.at(-1))) : undefined;
    if (down) {
      // Not "no data": Prometheus itself did not answer. Probed with backoff; resumes by itself.
      this.pause(
        'AnalysisError',
        `${where}: ${down.message ?? 'Prometheus unavailable'} (metric ${down.name}); paused at ${this.state.weight}% (resumes by itself once Prometheus answers; promote to skip, abort to roll back)`,
      );
      this.requeue(OUTAGE_PROBE_MIN_MS);
      return;
    }
    this.pause(
      run.phase === 'Inconclusive' ? 'Inconclusive' : 'AnalysisError',
      `${where}: analysis ${run.phase === 'Inconclusive' ? 'inconclusive' : 'failed to measure'}: ${run.message ?? ''}; paused at ${this.state.weight}% (resume to measure again, promote to skip, abort to roll back)`,
    );
  }

  /** Rolls back on a failed run, naming the failing metric, its value, the condition, the query and when. */
  failRun(run: AnalysisRun): void {
    const s = this.state;
    const metric = run.metrics.find((m) => m.phase === 'Failed') as MetricRun;
    const last = [...metric.measurements].reverse().find((m) => m.phase === 'Failed');
    const onset = metric.measurements.find((m) => m.phase === 'Failed')?.at;
    const value = last?.value !== undefined ? String(last.value) : (last?.message ?? 'n/a');
    const stable = last?.stableValue !== undefined ? ` (stable ${last.stableValue})` : '';
    this.rollback(
      'AnalysisFailed',
      `metric ${metric.name} failed at ${s.weight}%: value ${value}${stable} breaks "${metric.condition}" (${metric.failed} failures, query: ${metric.query.trim()})`,
      {
        metric: metric.name,
        template: metric.template,
        ...(last?.value !== undefined ? { value: last.value } : {}),
        ...(last?.stableValue !== undefined ? { stableValue: last.stableValue } : {}),
        condition: metric.condition,
        query: metric.query,
        ...(last ? { measuredAt: last.at } : {}),
      },
      onset,
    );
  }

  /** The background analysis: false when it stopped the rollout (rollback or pause). */
  background(): boolean {
    const bg = this.spec.background;
    const s = this.state;
    if (!bg || s.stepIndex < bg.startingStep) return true;
    const resolved = this.obs.background;
    if (!resolved || 'error' in resolved) {
      this.pause('InvalidAnalysis', `background analysis: ${resolved ? resolved.error : 'templates not resolved'}`);
      return false;
    }
    let run = s.backgroundRun;
    if (run && run.revision !== s.canaryRevision) {
      this.archiveBackground('another revision');
      run = undefined;
    }
    // Measured only under traffic: the run starts (its first reading one interval later) once the canary
    // serves, and readings are not taken while it does not (the reconciler skips them; any given are ignored).
    if (!canaryServes(s, this.obs)) {
      if (run) this.requeue(POLL_MS);
      return true;
    }
    if (!run) {
      try {
        s.backgroundRun = this.newRun(resolved.metrics, true);
      } catch (err) {
        this.pause('InvalidAnalysis', `background analysis: ${err instanceof Error ? err.message : String(err)}`);
        return false;
      }
      const due = nextMeasurementAt(s.backgroundRun);
      if (due) this.requeue(due.getTime() - this.now.getTime());
      return true;
    }
    if (this.obs.backgroundMeasurements && this.obs.backgroundMeasurements.size > 0) {
      const before = run;
      run = applyMeasurements(run, resolved.metrics, this.obs.backgroundMeasurements, this.now, this.spec.advanceRule);
      for (const m of run.metrics) {
        const was = before.metrics.find((b) => b.name === m.name);
        if (was?.phase === 'Running' && m.phase !== 'Running') this.records.push({ kind: 'analysis', metric: m.name, template: m.template, phase: m.phase });
      }
      s.backgroundRun = run;
    }
    switch (run.phase) {
      case 'Running': {
        const due = nextMeasurementAt(run);
        if (due) this.requeue(due.getTime() - this.now.getTime());
        return true;
      }
      case 'Successful':
        // It keeps watching: a fresh run for the rest of the rollout.
        this.archiveBackground('done');
        s.backgroundRun = this.newRun(resolved.metrics, true);
        return true;
      case 'Failed':
        this.failRun(run);
        return false;
      case 'Inconclusive':
      case 'Error':
        this.archiveBackground('paused');
        this.pauseOnRun(run, 'background');
        return false;
    }
  }

  promote(): void {
    const s = this.state;
    if (isStableReady(this.obs.stable, s.canaryRevision)) {
      const revision = s.canaryRevision as string;
      s.stableRevision = revision;
      s.weight = 0;
      s.phase = 'Healthy';
      s.completedAt = this.nowIso;
      delete s.promotingSince;
      if (this.spec.scaleDownDelayMs > 0) {
        s.canaryScaleDownAt = new Date(this.now.getTime() + this.spec.scaleDownDelayMs).toISOString();
        this.requeue(this.spec.scaleDownDelayMs);
      }
      s.message = `revision ${revision} promoted: the stable Deployment runs it and receives all traffic`;
      this.records.push({ kind: 'succeeded', leadTimeMs: this.since(s.startedAt) });
      this.event('Normal', DeliveryReasons.RolloutPromoted, s.message);
      return;
    }
    const waited = this.since(s.promotingSince);
    const base = `promoting revision ${s.canaryRevision}: waiting for the stable Deployment to be Ready with it (traffic stays on the canary)`;
    if (waited >= this.spec.progressDeadlineMs && !s.message?.includes('deadline')) {
      s.message = `${base}; progress deadline of ${this.spec.progressDeadlineMs / 1000}s exceeded`;
      this.event('Warning', DeliveryReasons.PromotionStalled, s.message);
    } else if (!s.message?.includes('deadline')) {
      s.message = base;
    }
    this.requeue(POLL_MS);
  }

  idle(): void {
    const at = this.state.canaryScaleDownAt;
    if (at === undefined) return;
    const left = Date.parse(at) - this.now.getTime();
    if (left <= 0) delete this.state.canaryScaleDownAt;
    else this.requeue(left);
  }

}

/**
 * The writes that realise `state` (pure; also what the WebService renderer is given through the
 * delivery seam, see render-input.ts). Level-triggered: the same state and observations always give the
 * same writes, so a restarted controller re-derives them. Order: the stable Deployment, then the canary
 * when it only grows (pods before traffic), then the route weight, then the canary when it shrinks or
 * changes template (traffic leaves before pods go). When the live route still sends the canary more
 * than `state.weight` (Gateway API), the canary keeps its pods until the route has been updated.
 */
export function desiredWrites(state: RolloutState, obs: Observations, spec: DeliverySpec): Action[] {
  const s = state;
  const out: Action[] = [];
  const stableReplicas = obs.stable?.replicas ?? 0;
  const promoting = s.phase === 'Promoting';
  if (promoting) out.push(promotedStable(s.canaryRevision as string, obs, s.stableRevision));
  else out.push({ type: 'applyStable', template: s.stableRevision === obs.desiredRevision ? 'desired' : 'stable', revision: s.stableRevision });

  let canary: Extract<Action, { type: 'applyCanary' }> | undefined;
  const mode = obs.trafficMode;
  if (s.phase === 'Progressing' || s.phase === 'Paused') {
    const step = spec.steps[s.stepIndex];
    const stepWant = step && 'setWeight' in step && s.phase === 'Progressing' ? canaryReplicas(stableReplicas, step.setWeight, mode) : 0;
    const replicas = Math.max(canaryReplicas(stableReplicas, s.weight, mode), stepWant);
    const revision = s.canaryRevision as string;
    canary = { type: 'applyCanary', template: revision === obs.desiredRevision ? 'desired' : 'live', revision, replicas };
  } else if (obs.canary) {
    const keep = promoting || s.canaryScaleDownAt !== undefined;
    const replicas = keep ? Math.max(canaryReplicas(stableReplicas, s.weight, mode), obs.canary.replicas) : 0;
    canary = { type: 'applyCanary', template: 'live', revision: obs.canary.revision ?? s.canaryRevision ?? '', replicas };
  }
  const weight: Action = { type: 'setWeight', weight: s.weight };
  const live = obs.canary;
  const grows = canary !== undefined && live !== undefined && canary.revision === live.revision && canary.replicas >= live.replicas;
  if (!canary) return [...out, weight];
  if (!live || grows) return [...out, canary, weight];
  // Shrinks or changes template: only once the route no longer sends the canary more than the state says.
  const routeAhead = mode === 'gatewayAPI' && obs.routeWeight !== undefined && obs.routeWeight > s.weight;
  const held: Action = { type: 'applyCanary', template: 'live', revision: live.revision ?? canary.revision, replicas: live.replicas };
  return [...out, weight, routeAhead ? held : canary];
}

/**
 * The stable write while promoting `revision`: its template comes from whoever holds it, the spec, the
 * live canary, or the stable Deployment that already took it. A `promote --full` of a superseded
 * canary promotes the desired revision while the canary Deployment still runs the older one; if the
 * spec then moves on, copying the canary would put a never-analysed template on stable under the
 * promoted revision's name. When nothing holds it any more, the stable stays as it is.
 */
function promotedStable(revision: string, obs: Observations, stableRevision: string): Extract<Action, { type: 'applyStable' }> {
  if (revision === obs.desiredRevision) return { type: 'applyStable', template: 'desired', revision };
  if (obs.canary?.revision === revision) return { type: 'applyStable', template: 'canary', revision };
  if (obs.stable?.revision === revision) return { type: 'applyStable', template: 'stable', revision };
  return { type: 'applyStable', template: 'stable', revision: obs.stable?.revision ?? stableRevision };
}

/** True when the analyses the current step needs (its own, and the background one) resolve now. */
function analysisResolvable(state: RolloutState, obs: Observations, spec: DeliverySpec): boolean {
  const ok = (a: { metrics: unknown } | { error: string } | undefined) => a !== undefined && !('error' in a);
  const step = spec.steps[state.stepIndex];
  const stepOk = !step || !('analysis' in step) || ok(obs.analysis?.get(state.stepIndex));
  const bg = spec.background;
  const bgOk = !bg || state.stepIndex < bg.startingStep || ok(obs.background);
  return stepOk && bgOk;
}

/** The initial state: whatever the stable Deployment runs is stable; before the first deploy, the desired revision is. */
export function initialState(obs: Observations, spec: DeliverySpec): RolloutState {
  return {
    phase: 'Healthy',
    stableRevision: obs.stable?.revision ?? obs.desiredRevision,
    stepIndex: 0,
    stepCount: spec.steps.length,
    weight: 0,
    attempt: 0,
    history: [],
  };
}

/** Decides the next rollout state and the writes that realise it. Pure. */
export function plan(prev: RolloutState | undefined, obs: Observations, spec: DeliverySpec, now: Date): Plan {
  const p = new Planner(prev ?? initialState(obs, spec), obs, spec, now);
  p.handleAction();
  p.handleRevision();
  switch (p.state.phase) {
    case 'Progressing':
      p.progress();
      break;
    case 'Promoting':
      p.promote();
      break;
    case 'Healthy':
      p.idle();
      break;
    case 'Paused':
      // Templates that were missing or invalid and are fine now: carry on by themselves.
      if (p.state.pauseReason === 'InvalidAnalysis' && analysisResolvable(p.state, obs, spec)) {
        p.clearPause();
        p.state.phase = 'Progressing';
        p.progress();
      } else if (p.state.pauseReason === 'AnalysisError') {
        // Prometheus was unavailable: carry on by itself once it answers again.
        p.handleOutage();
        if ((p.state.phase as RolloutState['phase']) === 'Progressing') p.progress();
      }
      break;
    case 'RolledBack':
      break;
  }
  return {
    state: p.state,
    actions: desiredWrites(p.state, obs, spec),
    events: p.events,
    records: p.records,
    ...(p.requeueAfterMs !== undefined ? { requeueAfterMs: p.requeueAfterMs } : {}),
  };
}
