import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseAction, plan } from '../../src/delivery/plan.js';
import { normalizeDelivery } from '../../src/delivery/spec.js';
import { MAX_HISTORY } from '../../src/delivery/types.js';
import { analysisStep, deliverySpec, metric, World } from './sim.js';

const fails = { kind: 'value', value: 0.5 } as const;
const ok = { kind: 'value', value: 0 } as const;
const events = (w: World) => w.plans.flatMap((p) => p.events.map((e) => e.reason));
const records = (w: World) => w.plans.flatMap((p) => p.records);

/** A world with r1 deployed and r2 just requested. */
function rolling(): World {
  const w = new World().boot();
  w.desiredRevision = 'r2';
  return w;
}

describe('first deploy', () => {
  it('deploys the stable Deployment directly, without a canary', () => {
    const w = new World();
    const p = w.reconcile();
    expect(p.state).toMatchObject({ phase: 'Healthy', stableRevision: 'r1', weight: 0 });
    expect(p.actions).toEqual([
      { type: 'applyStable', template: 'desired', revision: 'r1' },
      { type: 'setWeight', weight: 0 },
    ]);
    expect(w.canary).toBeUndefined();
  });
});

describe('a healthy change', () => {
  it('goes 10 -> 50 -> 100, promotes, returns traffic to the new stable and scales the canary down after the delay', () => {
    const w = rolling();
    w.runUntil((x) => x.status?.phase === 'Healthy' && x.status.stableRevision === 'r2');
    expect(w.weights).toEqual([10, 50, 100, 0]);
    expect(w.stable?.revision).toBe('r2');
    expect(w.status).toMatchObject({ phase: 'Healthy', stableRevision: 'r2', canaryRevision: 'r2', weight: 0 });
    expect(w.status?.history.map((r) => [r.stepIndex, r.phase])).toEqual([
      [1, 'Successful'],
      [3, 'Successful'],
    ]);
    expect(events(w)).toEqual(expect.arrayContaining(['RolloutStarted', 'AnalysisSuccessful', 'RolloutPromoting', 'RolloutPromoted']));
    // The canary keeps its pods for scaleDownDelay, then goes to zero.
    expect(w.canary?.replicas).toBe(4);
    const promotedAt = w.now.getTime();
    w.runUntil((x) => x.canary?.replicas === 0);
    expect(w.now.getTime() - promotedAt).toBeGreaterThanOrEqual(10_000);
    expect(w.status?.canaryScaleDownAt).toBeUndefined();
    const kinds = records(w).map((r) => r.kind);
    expect(kinds.filter((k) => k === 'started')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'succeeded')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'stepCompleted')).toHaveLength(5);
  });

  it('writes the stable template before the weight returns to it (promotion order)', () => {
    const w = rolling();
    w.runUntil((x) => x.status?.phase === 'Healthy' && x.status.stableRevision === 'r2');
    const stableR2 = w.writes.findIndex((x) => x.action.type === 'applyStable' && x.action.revision === 'r2');
    const back = w.writes.findIndex((x) => x.action.type === 'setWeight' && x.action.weight === 0 && x.stableRevision === 'r2');
    expect(stableR2).toBeGreaterThan(-1);
    expect(back).toBeGreaterThan(stableR2);
    // Between them, the route kept 100% on the canary while the stable rolled.
    const between = w.writes.slice(stableR2, back).filter((x) => x.action.type === 'setWeight');
    expect(between.every((x) => x.action.type === 'setWeight' && x.action.weight === 100)).toBe(true);
  });

  it('scales the canary before moving the weight, never the other way round', () => {
    const w = rolling();
    w.reconcile(); // starts: canary created with 1 pod (10% of 4), weight still 0
    expect(w.status).toMatchObject({ phase: 'Progressing', stepIndex: 0, weight: 0 });
    expect(w.canary).toMatchObject({ revision: 'r2', replicas: 1, ready: 0 });
    expect(w.routeWeight).toBe(0);
    w.tick(1000);
    w.reconcile();
    expect(w.routeWeight).toBe(10);
  });
});

describe('rollback', () => {
  it('rolls back an error-rate spike at 50% within failureLimit + 1 intervals, with the failing metric in status', () => {
    const w = rolling();
    let faultAt: number | undefined;
    w.result = () => (w.routeWeight >= 50 ? fails : ok);
    w.runUntil((x) => {
      if (faultAt === undefined && x.routeWeight >= 50) faultAt = x.now.getTime();
      return x.status?.phase === 'RolledBack';
    });
    const interval = 2000;
    const failureLimit = 1;
    expect(w.now.getTime() - faultAt!).toBeLessThanOrEqual((failureLimit + 1) * interval);
    expect(w.routeWeight).toBe(0);
    w.reconcile(); // the route is at 0: now the canary's pods go
    expect(w.canary?.replicas).toBe(0);
    expect(w.weights).toEqual([10, 50, 0]);
    expect(w.status?.failure).toMatchObject({
      reason: 'AnalysisFailed',
      metric: 'error-rate',
      template: 'ClusterAnalysisTemplate/error-rate',
      value: 0.5,
      condition: 'result <= 0.01',
      query: 'q{track="canary"}',
    });
    expect(w.status?.failure?.measuredAt).toBeDefined();
    expect(w.status?.message).toContain('metric error-rate failed at 50%: value 0.5 breaks "result <= 0.01"');
    expect(w.status?.failedRevision).toBe('r2');
    expect(w.stable?.revision).toBe('r1');
    const rb = records(w).find((r) => r.kind === 'rolledBack');
    expect(rb).toMatchObject({ kind: 'rolledBack', reason: 'AnalysisFailed', failureOnsetToRollbackMs: interval });
  });

  it('sends traffic back before it scales the canary down', () => {
    const w = rolling();
    w.result = () => (w.routeWeight >= 50 ? fails : ok);
    w.runUntil((x) => x.status?.phase === 'RolledBack');
    const first = w.plans.at(-1)!;
    expect(first.events.map((e) => e.reason)).toContain('RolloutRolledBack');
    expect(first.actions.map((a) => a.type)).toEqual(['applyStable', 'setWeight', 'applyCanary']);
    expect(first.actions[1]).toEqual({ type: 'setWeight', weight: 0 });
    // the route still sent 50% to the canary when this was decided: its pods stay for now
    expect(first.actions[2]).toMatchObject({ replicas: 2 });
    const next = w.reconcile();
    expect(next.actions).toContainEqual(expect.objectContaining({ type: 'applyCanary', replicas: 0 }));
    expect(w.canary?.replicas).toBe(0);
  });

  it('does not retry the failed revision until the spec changes or a retry is asked for', () => {
    const w = rolling();
    w.result = () => (w.routeWeight >= 10 ? fails : ok);
    w.runUntil((x) => x.status?.phase === 'RolledBack');
    const started = () => records(w).filter((r) => r.kind === 'started').length;
    w.result = () => ok;
    for (let i = 0; i < 20; i++) {
      w.tick(1000);
      w.reconcile();
    }
    expect(w.status?.phase).toBe('RolledBack');
    expect(started()).toBe(1);
    // retry: the same revision again, without deleting anything
    w.action = 'retry';
    w.reconcile();
    expect(w.status).toMatchObject({ phase: 'Progressing', canaryRevision: 'r2', stepIndex: 0 });
    expect(w.status?.failedRevision).toBeUndefined();
    w.action = undefined;
    w.runUntil((x) => x.status?.phase === 'Healthy' && x.status.stableRevision === 'r2');
    expect(started()).toBe(2);
  });

  it('starts over when the spec changes after a rollback', () => {
    const w = rolling();
    w.result = () => (w.routeWeight >= 10 ? fails : ok);
    w.runUntil((x) => x.status?.phase === 'RolledBack');
    w.result = () => ok;
    w.desiredRevision = 'r3';
    w.runUntil((x) => x.status?.phase === 'Healthy' && x.status.stableRevision === 'r3');
    expect(w.status?.failure).toBeUndefined();
  });

  it('catches with the canary-vs-stable comparison a latency regression that the absolute threshold misses', () => {
    const spec = deliverySpec();
    const absolute = new World(spec).boot();
    absolute.metrics = [{ template: 't', metric: metric({ name: 'latency-p99', max: 5 }) }];
    absolute.result = (_m, track) => ({ kind: 'value', value: track === 'canary' ? 2 : 0.8 });
    absolute.desiredRevision = 'r2';
    absolute.runUntil((x) => x.status?.phase === 'Healthy' && x.status.stableRevision === 'r2');

    const ratio = new World(spec).boot();
    ratio.metrics = [{ template: 't', metric: metric({ name: 'latency-p99', max: undefined, comparison: { maxRatio: 1.5, tolerance: 0.01 } }) }];
    ratio.result = absolute.result;
    ratio.desiredRevision = 'r2';
    ratio.runUntil((x) => x.status?.phase === 'RolledBack');
    expect(ratio.status?.failure).toMatchObject({ metric: 'latency-p99', value: 2, stableValue: 0.8, condition: 'canary <= stable * 1.5 + 0.01' });
    expect(ratio.queries).toBeGreaterThan(0);
  });

  it('fails a canary that never becomes Ready at the progress deadline', () => {
    const w = rolling();
    w.crashCanary = true;
    w.runUntil((x) => x.status?.phase === 'RolledBack', 200, 5000);
    expect(w.elapsedMs()).toBeGreaterThanOrEqual(60_000);
    expect(w.status?.failure?.reason).toBe('ProgressDeadlineExceeded');
    expect(w.status?.message).toMatch(/not Ready within 60s \(0\/1 pods Ready for 10%\)/);
    expect(w.weights).toEqual([]); // no traffic ever reached it
    expect(w.canary?.replicas).toBe(0);
  });
});

describe('no data and errors pause, they never promote or roll back', () => {
  it('pauses as inconclusive when there is no traffic', () => {
    const w = rolling();
    w.result = () => ({ kind: 'noData' });
    w.runUntil((x) => x.status?.phase === 'Paused');
    expect(w.status).toMatchObject({ phase: 'Paused', pauseReason: 'Inconclusive', weight: 10, stepIndex: 1 });
    expect(w.status?.message).toMatch(/analysis inconclusive: metric error-rate inconclusive/);
    expect(w.status?.history.at(-1)?.metrics[0]?.measurements[0]).toMatchObject({ phase: 'Inconclusive' });
    // stays there: no promotion, no rollback, weight untouched, no measuring while paused
    const q = w.queries;
    for (let i = 0; i < 30; i++) {
      w.tick(1000);
      w.reconcile();
    }
    expect(w.status?.phase).toBe('Paused');
    expect(w.routeWeight).toBe(10);
    expect(w.queries).toBe(q);
    expect(events(w).filter((e) => e === 'RolloutPausedInconclusive')).toHaveLength(1);
    // traffic arrives, someone resumes: a fresh analysis attempt, then on to the end
    w.result = () => ok;
    w.action = 'resume';
    w.reconcile();
    expect(w.status).toMatchObject({ phase: 'Progressing', attempt: 1, stepIndex: 1 });
    w.runUntil((x) => x.status?.phase === 'Healthy' && x.status.stableRevision === 'r2');
  });

  it('pauses after consecutiveErrorLimit + 1 query errors (Prometheus down)', () => {
    const w = rolling();
    w.metrics = [{ template: 't', metric: metric({ consecutiveErrorLimit: 2 }) }];
    w.result = () => (w.routeWeight >= 50 ? { kind: 'error', message: 'network_error: connect ECONNREFUSED' } : ok);
    w.runUntil((x) => x.status?.phase === 'Paused');
    expect(w.status).toMatchObject({ pauseReason: 'AnalysisError', weight: 50, stepIndex: 3 });
    expect(w.status?.history.at(-1)?.metrics[0]).toMatchObject({ error: 3, consecutiveErrors: 3, phase: 'Error' });
    expect(w.status?.message).toContain('3 consecutive query errors (consecutiveErrorLimit 2)');
    expect(w.stable?.revision).toBe('r1');
  });

  it('says "Prometheus unavailable", retries with backoff, and resumes by itself once Prometheus answers', () => {
    const w = rolling();
    w.metrics = [{ template: 't', metric: metric({ consecutiveErrorLimit: 2, interval: '10s', count: 2 }) }];
    let down = false;
    w.result = () => (down ? { kind: 'error', message: 'network_error: connect ECONNREFUSED 127.0.0.1:9090', unavailable: true } : ok);
    w.runUntil((x) => x.status?.stepIndex === 3 && (x.status.currentRun?.metrics[0]?.successful ?? 0) === 1);
    down = true;
    w.runUntil((x) => x.status?.phase === 'Paused', 200, 250);
    expect(w.status).toMatchObject({ pauseReason: 'AnalysisError', weight: 50, stepIndex: 3 });
    expect(w.status?.message).toContain('Prometheus unavailable: network_error: connect ECONNREFUSED');
    expect(w.status?.message).toContain('3 consecutive query errors (consecutiveErrorLimit 2)');
    expect(w.status?.message).not.toMatch(/no data/);
    const times = w.status!.history.at(-1)!.metrics[0]!.measurements.map((m) => Date.parse(m.at));
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps.slice(-3)).toEqual([10_000, 1000, 2000]); // a reading one interval (10 s) after the good one; errors retried after 1 s, then 2 s
    // still down: stays paused, probing less and less often
    const requeues: number[] = [];
    for (let i = 0; i < 6; i++) {
      requeues.push(w.reconcile().requeueAfterMs ?? 0);
      w.tick(requeues.at(-1)!);
      expect(w.status?.phase).toBe('Paused');
    }
    expect(requeues[5]).toBeGreaterThan(requeues[0]!);
    down = false;
    w.reconcile();
    expect(w.status).toMatchObject({ phase: 'Progressing', attempt: 1, stepIndex: 3 });
    expect(events(w)).toContain('RolloutResumed');
    w.runUntil((x) => x.status?.phase === 'Healthy' && x.status.stableRevision === 'r2', 200, 2000);
  });

  it('a no-data pause stays paused when data comes back, until someone acts', () => {
    const w = rolling();
    w.result = () => ({ kind: 'noData' });
    w.runUntil((x) => x.status?.phase === 'Paused');
    expect(w.status?.pauseReason).toBe('Inconclusive');
    w.result = () => ok;
    for (let i = 0; i < 20; i++) {
      w.reconcile();
      w.tick(5000);
    }
    expect(w.status?.phase).toBe('Paused');
  });

  it('a query Prometheus rejects is not an outage: it stays paused', () => {
    const w = rolling();
    w.metrics = [{ template: 't', metric: metric({ consecutiveErrorLimit: 0 }) }];
    w.result = () => ({ kind: 'error', message: 'http_error: 400: parse error' });
    w.runUntil((x) => x.status?.phase === 'Paused');
    expect(w.status?.message).toContain('canary query failed: http_error: 400: parse error');
    w.result = () => ok;
    for (let i = 0; i < 10; i++) {
      w.reconcile();
      w.tick(5000);
    }
    expect(w.status?.phase).toBe('Paused');
  });

  it('pauses on a missing template and carries on by itself once it exists', () => {
    const w = rolling();
    w.analysisError = 'ClusterAnalysisTemplate/error-rate not found';
    w.runUntil((x) => x.status?.phase === 'Paused');
    expect(w.status).toMatchObject({ pauseReason: 'InvalidAnalysis', weight: 10 });
    expect(w.status?.message).toContain('not found');
    w.analysisError = undefined;
    w.runUntil((x) => x.status?.phase === 'Healthy' && x.status.stableRevision === 'r2');
  });
});

describe('restart', () => {
  it('resumes at step 2 from status alone, without re-running finished steps or moving traffic backwards', () => {
    const w = rolling();
    w.runUntil((x) => x.status?.stepIndex === 2 && x.routeWeight === 10);
    // The controller dies: only the cluster (Deployments, route) and the WebService status survive.
    const restarted = new World(w.spec);
    Object.assign(restarted, {
      now: w.now,
      desiredRevision: w.desiredRevision,
      stable: structuredClone(w.stable),
      canary: structuredClone(w.canary),
      routeWeight: w.routeWeight,
      status: JSON.parse(JSON.stringify(w.status)),
    });
    const first = restarted.reconcile();
    expect(first.state.stepIndex).toBeGreaterThanOrEqual(2);
    const weight = first.actions.find((a) => a.type === 'setWeight');
    expect(weight).toBeDefined();
    expect(weight!.type === 'setWeight' && weight!.weight).toBeGreaterThanOrEqual(10);
    restarted.runUntil((x) => x.status?.phase === 'Healthy' && x.status.stableRevision === 'r2');
    expect(restarted.weights).toEqual([50, 100, 0]);
    expect(events(restarted)).not.toContain('RolloutStarted');
    expect(restarted.status?.history.filter((r) => r.stepIndex === 1)).toHaveLength(1);
  });

  it('resumes an analysis mid-run with its counts', () => {
    const w = rolling();
    w.metrics = [{ template: 't', metric: metric({ count: 3 }) }];
    w.runUntil((x) => (x.status?.currentRun?.metrics[0]?.successful ?? 0) === 1);
    const run = structuredClone(w.status!.currentRun!);
    const again = plan(JSON.parse(JSON.stringify(w.status)), {
      namespace: 'shop',
      service: 'cart',
      desiredRevision: 'r2',
      stable: { revision: 'r1', replicas: 4, statusReplicas: 4, updatedReplicas: 4, readyReplicas: 4, revisionReadyReplicas: 4, generation: 1, observedGeneration: 1 },
      canary: { revision: 'r2', replicas: 1, statusReplicas: 1, updatedReplicas: 1, readyReplicas: 1, revisionReadyReplicas: 1, generation: 1, observedGeneration: 1 },
      trafficMode: 'gatewayAPI',
      analysis: new Map([[1, { metrics: w.metrics }], [3, { metrics: w.metrics }]]),
    }, w.spec, w.now);
    expect(again.state.currentRun).toEqual(run);
    expect(again.actions).toContainEqual({ type: 'setWeight', weight: 10 });
  });
});

describe('spec changes', () => {
  it('abandons the canary mid-rollout and starts over with the newest revision', () => {
    const w = rolling();
    w.runUntil((x) => x.routeWeight === 50);
    w.desiredRevision = 'r3';
    const p = w.reconcile();
    expect(p.state).toMatchObject({ phase: 'Progressing', canaryRevision: 'r3', stepIndex: 0, weight: 0 });
    // traffic leaves the old canary before its pods are replaced
    expect(p.actions.map((a) => a.type)).toEqual(['applyStable', 'setWeight', 'applyCanary']);
    expect(p.events.map((e) => e.message).join()).toContain('the spec changed during the rollout of r2');
    w.runUntil((x) => x.status?.phase === 'Healthy' && x.status.stableRevision === 'r3');
    expect(w.weights).toEqual([10, 50, 0, 10, 50, 100, 0]);
    expect(w.stable?.revision).toBe('r3');
  });

  it('finishes a promotion in flight before rolling out a newer revision', () => {
    const w = rolling();
    w.runUntil((x) => x.status?.phase === 'Promoting');
    w.desiredRevision = 'r3';
    w.runUntil((x) => x.status?.phase === 'Healthy' && x.status.stableRevision === 'r2', 5);
    w.runUntil((x) => x.status?.phase === 'Healthy' && x.status.stableRevision === 'r3');
  });

  it('goes back to healthy when the spec returns to the stable revision', () => {
    const w = rolling();
    w.runUntil((x) => x.routeWeight === 10);
    w.desiredRevision = 'r1';
    w.reconcile();
    expect(w.status).toMatchObject({ phase: 'Healthy', stableRevision: 'r1', weight: 0 });
    expect(w.routeWeight).toBe(0);
    w.reconcile();
    expect(w.canary?.replicas).toBe(0);
  });
});

describe('manual controls (paved.dev/rollout-action)', () => {
  it('parses the verbs', () => {
    expect(parseAction('promote')).toBe('promote');
    expect(parseAction('promote --full')).toBe('promote-full');
    expect(parseAction('Promote-Full')).toBe('promote-full');
    expect(parseAction('abort@2026-01-01T10:00:00Z')).toBe('abort');
    expect(parseAction('delete-everything')).toBeUndefined();
  });

  it('pause and resume', () => {
    const w = rolling();
    w.runUntil((x) => x.status?.currentRun !== undefined);
    w.action = 'pause';
    w.reconcile();
    expect(w.status).toMatchObject({ phase: 'Paused', pauseReason: 'Manual' });
    const q = w.queries;
    for (let i = 0; i < 10; i++) {
      w.tick(1000);
      w.reconcile();
    }
    expect(w.queries).toBe(q);
    expect(w.status?.phase).toBe('Paused');
    w.action = undefined;
    w.reconcile();
    w.action = 'resume';
    w.reconcile();
    expect(w.status).toMatchObject({ phase: 'Progressing', attempt: 0 });
    expect(w.status?.currentRun).toBeDefined(); // a manual pause keeps the run going
    w.runUntil((x) => x.status?.phase === 'Healthy' && x.status.stableRevision === 'r2');
  });

  it('promote skips the current step; the same annotation value acts once', () => {
    const w = rolling();
    w.runUntil((x) => x.status?.stepIndex === 1 && x.status.currentRun !== undefined);
    w.action = 'promote';
    w.reconcile();
    expect(w.status?.stepIndex).toBeGreaterThanOrEqual(2);
    expect(w.status?.history.at(-1)?.message).toBe('abandoned: skipped by promote');
    w.tick(100);
    w.reconcile(); // still annotated with the same value: nothing more is skipped
    expect(events(w).filter((e) => e === 'RolloutStepPromoted')).toHaveLength(1);
    expect(w.status?.handledAction).toBe('promote');
    w.action = undefined;
    w.reconcile();
    expect(w.status?.handledAction).toBeUndefined();
  });

  it('promote --full moves straight to promotion, stable first', () => {
    const w = rolling();
    w.runUntil((x) => x.routeWeight === 10);
    w.action = 'promote --full';
    w.runUntil((x) => x.status?.phase === 'Healthy' && x.status.stableRevision === 'r2');
    expect(w.weights).toEqual([10, 0]);
    expect(w.stable?.revision).toBe('r2');
  });

  it('a pause step waits for resume; a timed pause waits its duration', () => {
    const w = new World(deliverySpec({ steps: [{ setWeight: 20 }, { pause: {} }, { setWeight: 60 }, { pause: { durationMs: 30_000 } }, { setWeight: 100 }] })).boot();
    w.desiredRevision = 'r2';
    w.runUntil((x) => x.status?.phase === 'Paused');
    expect(w.status).toMatchObject({ pauseReason: 'PauseStep', weight: 20 });
    w.action = 'resume';
    w.runUntil((x) => x.routeWeight === 60);
    const at60 = w.now.getTime();
    w.runUntil((x) => x.routeWeight === 100, 200, 60_000);
    expect(w.now.getTime() - at60).toBeGreaterThanOrEqual(30_000);
  });

  it('abort rolls back at once; abort and promote are ignored when there is nothing to act on', () => {
    const w = rolling();
    w.runUntil((x) => x.routeWeight === 50);
    w.action = 'abort';
    w.reconcile();
    expect(w.status).toMatchObject({ phase: 'RolledBack', weight: 0, failure: { reason: 'Aborted' } });
    expect(w.routeWeight).toBe(0);
    w.reconcile();
    expect(w.canary?.replicas).toBe(0);
    w.action = 'promote';
    const p = w.reconcile();
    expect(p.events).toContainEqual(expect.objectContaining({ reason: 'RolloutActionIgnored' }));
    expect(w.status?.phase).toBe('RolledBack');
  });

  it('a setWeight 0 step needs no canary pods', () => {
    const w = new World(deliverySpec({ steps: [{ setWeight: 0 }, { setWeight: 30 }, { setWeight: 100 }] })).boot();
    w.desiredRevision = 'r2';
    w.runUntil((x) => x.status?.phase === 'Healthy' && x.status.stableRevision === 'r2', 20);
    expect(w.weights).toEqual([30, 100, 0]);
  });

  it('an unknown action is reported, not guessed', () => {
    const w = rolling();
    w.action = 'rollback-please';
    const p = w.reconcile();
    expect(p.events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'RolloutActionIgnored' }));
  });
});

describe('the HPA keeps working', () => {
  it('sizes the canary from the stable replicas the HPA chose, at every reconcile', () => {
    const w = rolling();
    w.runUntil((x) => x.routeWeight === 50);
    expect(w.canary?.replicas).toBe(2); // ceil(4 * 50%)
    w.hpaReplicas = 10; // load: the HPA scales the stable Deployment
    w.tick(1000);
    w.reconcile();
    expect(w.stable?.replicas).toBe(10);
    expect(w.canary?.replicas).toBe(5);
    expect(w.writes.some((x) => x.action.type === 'applyStable' && 'replicas' in x.action)).toBe(false);
  });
});

describe('the canary is judged by its own revision\'s pods', () => {
  it('gives no weight and no analysis to a new revision whose pods are not Ready while the previous canary\'s still are', () => {
    const w = rolling();
    w.runUntil((x) => x.status?.stepIndex === 1 && x.routeWeight === 10); // r2 serves 10%, analysing
    w.desiredRevision = 'r3';
    w.reconcile(); // the route leaves the canary first
    w.reconcile(); // then the canary Deployment takes r3's template
    expect(w.canary?.revision).toBe('r3');
    w.crashCanary = true; // r3's pods never become Ready; r2's stay (maxUnavailable 0)
    for (let i = 0; i < 30; i++) {
      w.reconcile();
      w.tick(1000);
      expect(w.canary?.ready, 'the previous revision still has Ready pods').toBeGreaterThan(0);
      expect(w.status).toMatchObject({ canaryRevision: 'r3', stepIndex: 0, weight: 0 });
      expect(w.status?.currentRun).toBeUndefined();
      expect(w.routeWeight).toBe(0);
    }
    expect(w.status?.message).toMatch(/waiting for 1 canary pods to be Ready for 10% \(0 Ready\)/);
    w.crashCanary = false; // r3's own pod becomes Ready: now it gets the weight
    w.runUntil((x) => x.routeWeight === 10 && x.status?.canaryRevision === 'r3');
  });
});

describe('advanceRule: a step never advances on a failed latest measurement', () => {
  it('takes one more measurement when the latest of count failed (bad, good, bad, good never passes on bad)', () => {
    const w = rolling();
    w.metrics = [{ template: 'ClusterAnalysisTemplate/error-rate', metric: metric({ count: 2, failureLimit: 3 }) }];
    let n = 0;
    w.result = () => (n++ % 2 === 0 ? ok : fails); // good, bad, good, bad, ...
    w.runUntil((x) => x.status?.phase === 'Healthy' && x.status.stableRevision === 'r2', 400);
    const passed = w.status!.history.filter((r) => r.phase === 'Successful');
    expect(passed).toHaveLength(2);
    for (const run of passed) expect(run.metrics[0]!.measurements.at(-1)?.phase).toBe('Successful');
    expect(passed[0]!.metrics[0]!.measurements.map((m) => m.phase)).toEqual(['Successful', 'Failed', 'Successful']);
  });

  it('follows Argo Rollouts with advanceRule WithinLimits', () => {
    const w = new World(deliverySpec({ advanceRule: 'WithinLimits' })).boot();
    w.desiredRevision = 'r2';
    w.metrics = [{ template: 'ClusterAnalysisTemplate/error-rate', metric: metric({ count: 2, failureLimit: 3 }) }];
    let n = 0;
    w.result = () => (n++ % 2 === 0 ? ok : fails);
    w.runUntil((x) => x.status?.phase === 'Healthy' && x.status.stableRevision === 'r2', 400);
    expect(w.status!.history[0]!.metrics[0]!.measurements.map((m) => m.phase)).toEqual(['Successful', 'Failed']);
  });

  it('is RequireLatestSuccess by default and refuses anything else, naming the field', () => {
    expect(normalizeDelivery(undefined).advanceRule).toBe('RequireLatestSuccess');
    expect(normalizeDelivery({ advanceRule: 'WithinLimits' }).advanceRule).toBe('WithinLimits');
    expect(() => normalizeDelivery({ advanceRule: 'Lenient' })).toThrow(/spec\.delivery\.advanceRule: "Lenient" is not one of/);
  });
});

describe('invariants under any sequence of events', () => {
  it('never copies a superseded canary onto stable after promote --full and another spec change (found by the property below)', () => {
    const w = new World(deliverySpec());
    w.mode = 'gatewayAPI';
    w.boot();
    w.result = () => ok;
    const steps: Array<() => void> = [
      () => (w.desiredRevision = 'r3'),
      () => w.tick(1),
      () => (w.desiredRevision = 'r2'),
      () => (w.action = 'promote --full'),
      () => (w.desiredRevision = 'r1'),
    ];
    for (const step of steps) {
      step();
      w.reconcile(); // the sim asserts that applyStable names the revision its template has
    }
    expect(w.stable?.revision).toBe('r2');
    expect(w.canary?.revision).not.toBe(w.stable?.revision);
  });

  it('holds the traffic safety rules, bounded status and JSON-safe state', () => {
    const event = fc.oneof(
      fc.record({ t: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 20_000 }) }),
      fc.record({ t: fc.constant('result' as const), r: fc.constantFrom('ok', 'fail', 'noData', 'error', 'unavailable') }),
      fc.record({ t: fc.constant('spec' as const), rev: fc.constantFrom('r1', 'r2', 'r3') }),
      fc.record({ t: fc.constant('action' as const), a: fc.constantFrom('promote', 'promote --full', 'abort', 'retry', 'pause', 'resume', undefined) }),
      fc.record({ t: fc.constant('crash' as const), on: fc.boolean() }),
      fc.record({ t: fc.constant('hpa' as const), n: fc.integer({ min: 1, max: 12 }) }),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 80 }), fc.constantFrom('gatewayAPI' as const, 'replicas' as const), fc.boolean(), (evs, mode, withBackground) => {
        const w = new World(
          withBackground
            ? deliverySpec({
                steps: [{ setWeight: 20 }, analysisStep, { pause: { durationMs: 5_000 } }, { setWeight: 100 }],
                background: { templates: [{ name: 'bg', clusterScope: true }], startingStep: 1 },
              })
            : deliverySpec(),
        );
        w.mode = mode;
        w.boot();
        let result = 'ok';
        w.result = () =>
          result === 'ok'
            ? ok
            : result === 'fail'
              ? fails
              : result === 'noData'
                ? { kind: 'noData' }
                : result === 'unavailable'
                  ? { kind: 'error', message: 'timeout', unavailable: true }
                  : { kind: 'error', message: 'down' };
        let prevPhase = w.status!.phase;
        for (const e of evs) {
          if (e.t === 'tick') w.tick(e.ms);
          else if (e.t === 'result') result = e.r;
          else if (e.t === 'spec') w.desiredRevision = e.rev;
          else if (e.t === 'action') w.action = e.a;
          else if (e.t === 'crash') w.crashCanary = e.on;
          else w.hpaReplicas = e.n;
          w.reconcile(); // the sim asserts the traffic rules at every write
          const s = w.status!;
          expect(s.history.length).toBeLessThanOrEqual(MAX_HISTORY);
          expect(JSON.stringify(s).length).toBeLessThan(64_000);
          if (s.phase === 'Healthy' || s.phase === 'RolledBack') expect(w.routeWeight).toBe(0);
          if (s.phase === 'RolledBack' && prevPhase === 'RolledBack') expect(w.canary?.replicas ?? 0).toBe(0);
          // background analysis pauses only on readings taken under traffic
          if (s.phase === 'Paused' && s.message?.startsWith('background: analysis')) expect(s.weight).toBeGreaterThan(0);
          // never advance on a failed latest measurement (advanceRule RequireLatestSuccess, the default)
          for (const run of s.history.filter((r) => r.phase === 'Successful')) {
            for (const m of run.metrics) expect(m.measurements.at(-1)?.phase, `run ${run.id} passed on its latest measurement`).toBe('Successful');
          }
          prevPhase = s.phase;
          expect(w.stable?.revision).toBeDefined();
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('background analysis (delivery.analysis with explicit steps)', () => {
  const bgSpec = (startingStep = 0) =>
    deliverySpec({
      steps: [{ setWeight: 20 }, { pause: { durationMs: 60_000 } }, { setWeight: 60 }, { pause: { durationMs: 10_000 } }, { setWeight: 100 }],
      background: { templates: [{ name: 'bg', clusterScope: true }], startingStep },
    });

  it('watches during the whole rollout and keeps watching after each successful run', () => {
    const w = new World(bgSpec()).boot();
    w.desiredRevision = 'r2';
    w.runUntil((x) => x.status?.phase === 'Healthy' && x.status.stableRevision === 'r2', 400, 2000);
    const bg = w.status!.history.filter((r) => r.id.includes('-bg'));
    expect(bg.filter((r) => r.phase === 'Successful').length).toBeGreaterThanOrEqual(2);
    expect(w.status?.backgroundRun).toBeUndefined();
  });

  it('rolls back when it fails, even during a pause step', () => {
    const w = new World(bgSpec()).boot();
    w.desiredRevision = 'r2';
    w.runUntil((x) => x.status?.stepIndex === 1 && x.routeWeight === 20);
    w.result = (name) => (name === 'bg-error-rate' ? { kind: 'value', value: 0.5 } : { kind: 'value', value: 0 });
    w.runUntil((x) => x.status?.phase === 'RolledBack');
    expect(w.status?.stepIndex).toBe(1);
    expect(w.status?.failure).toMatchObject({ reason: 'AnalysisFailed', metric: 'bg-error-rate', template: 'ClusterAnalysisTemplate/bg' });
    expect(w.routeWeight).toBe(0);
  });

  it('pauses on no data, and resumes', () => {
    const w = new World(bgSpec()).boot();
    w.desiredRevision = 'r2';
    w.result = (name) => (name === 'bg-error-rate' ? { kind: 'noData' } : { kind: 'value', value: 0 });
    w.runUntil((x) => x.status?.phase === 'Paused');
    expect(w.status).toMatchObject({ pauseReason: 'Inconclusive' });
    expect(w.status?.message).toMatch(/^background: analysis inconclusive/);
    w.result = () => ({ kind: 'value', value: 0 });
    w.action = 'resume';
    w.runUntil((x) => x.status?.phase === 'Healthy' && x.status.stableRevision === 'r2', 400, 2000);
  });

  it('neither measures nor pauses before the canary serves traffic (slow-starting pods)', () => {
    const w = new World(bgSpec()).boot();
    w.result = () => ({ kind: 'noData' }); // what the canary would read without traffic
    w.desiredRevision = 'r2';
    w.crashCanary = true; // the new pods are slow to become Ready
    for (let i = 0; i < 40; i++) {
      w.reconcile();
      w.tick(1000);
      expect(w.status).toMatchObject({ phase: 'Progressing', weight: 0, stepIndex: 0 });
      expect(w.status?.backgroundRun).toBeUndefined();
    }
    expect(w.queries).toBe(0);
    w.crashCanary = false;
    w.result = () => ({ kind: 'value', value: 0 });
    w.runUntil((x) => x.status?.backgroundRun !== undefined);
    expect(w.routeWeight).toBe(20);
    w.runUntil((x) => x.status?.phase === 'Healthy' && x.status.stableRevision === 'r2', 400, 2000);
    expect(w.status!.history.filter((r) => r.id.includes('-bg')).every((r) => r.phase !== 'Inconclusive' || r.message?.startsWith('abandoned'))).toBe(true);
  });

  it('starts at startingStep', () => {
    const w = new World(bgSpec(2)).boot();
    w.desiredRevision = 'r2';
    w.runUntil((x) => x.status?.stepIndex === 1 && x.routeWeight === 20);
    expect(w.status?.backgroundRun).toBeUndefined();
    w.runUntil((x) => (x.status?.stepIndex ?? 0) >= 2 && x.status?.backgroundRun !== undefined, 200, 5000);
    expect(w.status?.backgroundRun?.id).toContain('-bg2-');
  });
});
