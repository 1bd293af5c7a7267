/** The analysis gate: a step's analysis run and the background run, measured, concluded, paused on. */
import { applyMeasurements, isProviderUnavailable, newMetricRun, nextMeasurementAt } from '../../analysis/assess.js';
import { queryVars } from '../../analysis/measure.js';
import { renderQuery } from '../../analysis/render-query.js';
import type { AnalysisRun, Measurement, ResolvedMetric } from '../../analysis/types.js';
import { DeliveryReasons } from '../types.js';
import { OUTAGE_PROBE_MIN_MS, pause } from './pause.js';
import { POLL_MS, type Planner } from './planner.js';
import { canaryServes } from './readiness.js';
import { failRun } from './rollback.js';

export function newRun(p: Planner, metrics: readonly ResolvedMetric[], background = false): AnalysisRun {
  const s = p.state;
  const revision = s.canaryRevision ?? '';
  const target = { namespace: p.obs.namespace, service: p.obs.service, canaryRevision: revision, stableRevision: s.stableRevision };
  return {
    id: `${revision.slice(0, 16)}-${background ? 'bg' : ''}${s.stepIndex}-${s.attempt}`,
    revision,
    stepIndex: s.stepIndex,
    phase: 'Running',
    startedAt: p.nowIso,
    metrics: metrics.map((r) => newMetricRun(r, renderQuery(r.metric.query, queryVars(r.metric, target, 'canary')), p.now)),
  };
}

export function stepAnalysis(p: Planner): boolean {
  const s = p.state;
  const resolved = p.obs.analysis?.get(s.stepIndex);
  if (!resolved || 'error' in resolved) {
    pause(p, 'InvalidAnalysis', `step ${s.stepIndex + 1}: ${resolved ? resolved.error : 'analysis templates not resolved'}`);
    return false;
  }
  let run = s.currentRun;
  if (!run || run.stepIndex !== s.stepIndex || run.revision !== s.canaryRevision) {
    if (run) p.archiveRun('another step started');
    try {
      run = newRun(p, resolved.metrics);
    } catch (err) {
      pause(p, 'InvalidAnalysis', `step ${s.stepIndex + 1}: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
    s.currentRun = run;
  } else if (p.obs.measurements && p.obs.measurements.size > 0) {
    run = measure(p, run, resolved.metrics, p.obs.measurements);
    s.currentRun = run;
  }
  return concludeRun(p, run, { step: true });
}

/** Which run is concluded: the step's, or the background one (which starts afresh on success). */
type RunOf = { step: true } | { background: true; metrics: readonly ResolvedMetric[] };

/**
 * What a run's phase means for the rollout, for the step's run and the background run alike. True when
 * the rollout may go on: the step's run once it passed; the background run unless it stopped the rollout.
 */
function concludeRun(p: Planner, run: AnalysisRun, of: RunOf): boolean {
  const s = p.state;
  const bg = 'background' in of ? of : undefined;
  const where = bg ? 'background' : `step ${s.stepIndex + 1}/${p.spec.steps.length}`;
  const archive = (why: string): void => (bg ? p.archiveBackground(why) : p.archiveRun(why));
  switch (run.phase) {
    case 'Running':
      requeueForRun(p, run);
      if (bg) return true;
      s.message = `${where}: analysing ${run.metrics.map((m) => `${m.name} ${m.successful}/${m.failed}/${m.inconclusive}`).join(', ')} (ok/failed/no data) at ${s.weight}%`;
      return false;
    case 'Successful':
      if (bg) {
        // It keeps watching: a fresh run for the rest of the rollout.
        archive('done');
        s.backgroundRun = newRun(p, bg.metrics, true);
        return true;
      }
      p.event('Normal', DeliveryReasons.AnalysisSuccessful, `${where}: ${run.metrics.map((m) => m.name).join(', ')} passed at ${s.weight}%`);
      archive('done');
      return true;
    case 'Failed':
      failRun(p, run);
      return false;
    case 'Inconclusive':
    case 'Error':
      archive('paused');
      pauseOnRun(p, run, where);
      return false;
  }
}

function pauseOnRun(p: Planner, run: AnalysisRun, where: string): void {
  const down = run.phase === 'Error' ? run.metrics.find((m) => m.phase === 'Error' && isProviderUnavailable(m.measurements.at(-1))) : undefined;
  if (down) {
    // Not "no data": Prometheus itself did not answer. Probed with backoff; resumes by itself.
    pause(p, 
      'AnalysisError',
      `${where}: ${down.message ?? 'Prometheus unavailable'} (metric ${down.name}); paused at ${p.state.weight}% (resumes by itself once Prometheus answers; promote to skip, abort to roll back)`,
    );
    p.requeue(OUTAGE_PROBE_MIN_MS);
    return;
  }
  pause(p, 
    run.phase === 'Inconclusive' ? 'Inconclusive' : 'AnalysisError',
    `${where}: analysis ${run.phase === 'Inconclusive' ? 'inconclusive' : 'failed to measure'}: ${run.message ?? ''}; paused at ${p.state.weight}% (resume to measure again, promote to skip, abort to roll back)`,
  );
}

/** Applies the readings taken for `run`, recording each metric that concluded with them. */
function measure(p: Planner, run: AnalysisRun, metrics: readonly ResolvedMetric[], readings: ReadonlyMap<string, Measurement>): AnalysisRun {
  const next = applyMeasurements(run, metrics, readings, p.now, p.spec.advanceRule);
  for (const m of next.metrics) {
    const was = run.metrics.find((b) => b.name === m.name);
    if (was?.phase === 'Running' && m.phase !== 'Running') p.records.push({ kind: 'analysis', metric: m.name, template: m.template, phase: m.phase });
  }
  return next;
}

/** Asks again when the run's next measurement is due. */
function requeueForRun(p: Planner, run: AnalysisRun): void {
  const due = nextMeasurementAt(run);
  if (due) p.requeue(due.getTime() - p.now.getTime());
}

/** The background analysis: false when it stopped the rollout (rollback or pause). */
export function background(p: Planner): boolean {
  const bg = p.spec.background;
  const s = p.state;
  if (!bg || s.stepIndex < bg.startingStep) return true;
  const resolved = p.obs.background;
  if (!resolved || 'error' in resolved) {
    pause(p, 'InvalidAnalysis', `background analysis: ${resolved ? resolved.error : 'templates not resolved'}`);
    return false;
  }
  let run = s.backgroundRun;
  if (run && run.revision !== s.canaryRevision) {
    p.archiveBackground('another revision');
    run = undefined;
  }
  // Measured only under traffic: the run starts (its first reading one interval later) once the canary
  // serves, and readings are not taken while it does not (the reconciler skips them; any given are ignored).
  if (!canaryServes(s, p.obs)) {
    if (run) p.requeue(POLL_MS);
    return true;
  }
  if (!run) return startBackground(p, resolved.metrics);
  const readings = p.obs.backgroundMeasurements;
  if (readings && readings.size > 0) {
    run = measure(p, run, resolved.metrics, readings);
    s.backgroundRun = run;
  }
  return concludeRun(p, run, { background: true, metrics: resolved.metrics });
}

/** The first background run of a rollout, once the canary serves. False when its queries do not render. */
function startBackground(p: Planner, metrics: readonly ResolvedMetric[]): boolean {
  try {
    p.state.backgroundRun = newRun(p, metrics, true);
  } catch (err) {
    pause(p, 'InvalidAnalysis', `background analysis: ${err instanceof Error ? err.message : String(err)}`);
    return false;
  }
  requeueForRun(p, p.state.backgroundRun);
  return true;
}
