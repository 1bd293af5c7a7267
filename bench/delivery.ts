/**
 * Delivery figures (issue 5), against a real Prometheus (1 s scrape) scraping the traffic emitter:
 *
 *  A. time from fault injection (the canary's error rate jumps to 50% during the analysis at 50%) to the
 *     planner's rollback decision (weight 0), in seconds and in analysis intervals (2 s interval,
 *     failureLimit 1). The route write follows that decision in the same reconcile of the WebService
 *     controller; the end-to-end version on the real API server is the integration test
 *     "an error-rate spike at 50% rolls back ..." (test/delivery/rollout.int.test.ts).
 *  B. controller CPU per analysis evaluation: one measurement (render, query, judge) plus one plan, and
 *     the pure part (judge + assess + plan) alone.
 *  C. N concurrent rollouts (default 500) in one process: queries per second sent to Prometheus, writes
 *     per rollout step (status writes of the delivery controller, and object applies the WebService
 *     reconciler makes from the state: canary Deployment, stable Deployment, HTTPRoute), resident memory.
 *     Deployments are simulated (Ready one tick after a change); the planner, the analysis and the
 *     Prometheus load are real.
 *
 *   node --import tsx bench/delivery.ts [--runs 5] [--rollouts 500] [--seconds 40]
 *
 * The same figures end to end on a real local cluster (route weight observed in the API server, real
 * Deployments, API writes counted on the controllers' clients): bench/delivery-cluster.ts.
 */
import { judge } from '../src/analysis/assess.js';
import { measureMetric } from '../src/analysis/measure.js';
import { createPrometheusProvider } from '../src/analysis/prometheus-provider.js';
import { metricSpecSchema, type ResolvedMetric } from '../src/analysis/types.js';
import { startPrometheus } from '../src/localcluster/prometheus.js';
import { dueMetrics } from '../src/analysis/assess.js';
import { desiredWrites, plan } from '../src/delivery/plan.js';
import type { DeliverySpec, DeploymentObservation, Observations, RolloutState } from '../src/delivery/types.js';
import { statusEqual } from '../src/kube/status.js';
import { startTrafficEmitter } from '../test/support/traffic-emitter.js';
import { benchArgs } from './args.js';

const { runs: RUNS, rollouts: ROLLOUTS, seconds: SECONDS } = benchArgs({ runs: 5, rollouts: 500, seconds: 40 });
const out = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const QUERY =
  '(sum(rate(http_requests_total{namespace="{{namespace}}",service="{{service}}",track="{{track}}",code=~"5.."}[{{interval}}])) or vector(0)) / sum(rate(http_requests_total{namespace="{{namespace}}",service="{{service}}",track="{{track}}"}[{{interval}}]))';
const metric = metricSpecSchema.parse({ name: 'error-rate', query: QUERY, max: 0.05, interval: '2s', window: '3s', count: 100, failureLimit: 1, inconclusiveLimit: 3 });
const metrics: ResolvedMetric[] = [{ template: 'bench', metric }];
const gate = { analysis: { templates: [{ name: 'bench' }] } };
const ready = (revision: string, replicas: number): DeploymentObservation => ({
  revision, replicas, statusReplicas: replicas, updatedReplicas: replicas, readyReplicas: replicas, revisionReadyReplicas: replicas, generation: 1, observedGeneration: 1,
});

const prom = await startPrometheus({ scrapeIntervalSeconds: 1 });
const emitter = await startTrafficEmitter({ namespace: 'bench', service: 'shop', requestsPerSecond: 100 });
await prom.addTarget('emitter', emitter.hostPort);
let queries = 0;
const perSecond = new Map<number, number>();
const provider = createPrometheusProvider({
  url: prom.url,
  timeoutMs: 2000,
  onQuery: () => {
    queries += 1;
    const sec = Math.floor(Date.now() / 1000);
    perSecond.set(sec, (perSecond.get(sec) ?? 0) + 1);
  },
});
const probe = QUERY.replaceAll('{{namespace}}', 'bench').replaceAll('{{service}}', 'shop').replaceAll('{{track}}', 'canary').replaceAll('{{interval}}', '3s');
for (let i = 0; i < 60 && (await provider.query(probe)).kind !== 'value'; i++) await sleep(500);

try {
  // ---- A: fault injection to rollback ----
  const spec: DeliverySpec = { steps: [{ setWeight: 50 }, gate, { setWeight: 100 }], progressDeadlineMs: 600_000, scaleDownDelayMs: 0 };
  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    emitter.setErrorRate('canary', 0);
    await sleep(4000); // the 3 s window forgets the last fault
    let state: RolloutState | undefined = { phase: 'Healthy', stableRevision: 'r1', stepIndex: 0, weight: 0, attempt: 0, history: [] };
    const obs = (s: RolloutState | undefined, m = new Map()): Observations => ({
      namespace: 'bench', service: 'shop', desiredRevision: 'r2', stable: ready('r1', 4), canary: ready('r2', 2),
      trafficMode: 'gatewayAPI', analysis: new Map([[1, { metrics }]]), measurements: m,
    });
    state = plan(state, obs(state), spec, new Date()).state; // starts; canary Ready: 50% at once
    state = plan(state, obs(state), spec, new Date()).state; // analysis run created
    const injectAfter = 1000 + Math.random() * 3000;
    const started = Date.now();
    let faultAt = 0;
    for (;;) {
      const now = new Date();
      if (!faultAt && now.getTime() - started >= injectAfter) {
        emitter.setErrorRate('canary', 0.5);
        faultAt = now.getTime();
      }
      const m = new Map();
      const due = state?.currentRun ? dueMetrics(state.currentRun, now) : [];
      for (const name of due) m.set(name, await measureMetric(provider, metric, { namespace: 'bench', service: 'shop', canaryRevision: 'r2', stableRevision: 'r1' }, now));
      const p = plan(state, obs(state, m), spec, now);
      state = p.state;
      if (state.phase === 'RolledBack') {
        times.push((Date.now() - faultAt) / 1000);
        break;
      }
      if (state.phase !== 'Progressing') throw new Error(`unexpected phase ${state.phase}: ${state.message}`);
      await sleep(Math.min(p.requeueAfterMs ?? 100, 100));
    }
  }
  emitter.setErrorRate('canary', 0);
  times.sort((a, b) => a - b);
  const mean = times.reduce((s, t) => s + t, 0) / times.length;
  out(`A. fault -> rollback decision (1 s scrape, 2 s interval, 3 s window, failureLimit 1), ${RUNS} runs:`);
  out(`   mean ${mean.toFixed(1)} s = ${(mean / 2).toFixed(1)} intervals; min ${times[0]?.toFixed(1)} s, max ${times.at(-1)?.toFixed(1)} s`);

  // ---- B: CPU per analysis evaluation ----
  const N = 300;
  let state: RolloutState = { phase: 'Healthy', stableRevision: 'r1', stepIndex: 0, weight: 0, attempt: 0, history: [] };
  const spec2: DeliverySpec = { steps: [{ setWeight: 10 }, gate], progressDeadlineMs: 600_000, scaleDownDelayMs: 0 };
  const base: Observations = { namespace: 'bench', service: 'shop', desiredRevision: 'r2', stable: ready('r1', 4), canary: ready('r2', 1), trafficMode: 'gatewayAPI', analysis: new Map([[1, { metrics }]]) };
  state = plan(plan(state, base, spec2, new Date()).state, base, spec2, new Date()).state;
  const analysing = state; // an analysis run just started; restarted from here whenever it ends
  let t = Date.now() + 10_000;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const now = new Date(t);
    const m = new Map([['error-rate', await measureMetric(provider, metric, { namespace: 'bench', service: 'shop', canaryRevision: 'r2', stableRevision: 'r1' }, now)]]);
    state = plan(state, { ...base, measurements: m }, spec2, now).state;
    if (!state.currentRun) state = analysing;
    t += 2000;
  }
  const cpu1 = process.cpuUsage(cpu0);
  let s2: RolloutState = state;
  const cpu2 = process.cpuUsage();
  for (let i = 0; i < N * 10; i++) {
    const now = new Date(t);
    const m = new Map([['error-rate', judge(metric, { kind: 'value', value: 0.001 }, undefined, now.toISOString())]]);
    s2 = plan(s2, { ...base, measurements: m }, spec2, now).state;
    if (!s2.currentRun) s2 = analysing;
    t += 2000;
  }
  const cpu3 = process.cpuUsage(cpu2);
  out(`B. CPU per analysis evaluation: ${((cpu1.user + cpu1.system) / N / 1000).toFixed(2)} ms with the Prometheus query (client side), ${((cpu3.user + cpu3.system) / (N * 10) / 1000).toFixed(3)} ms pure (judge + assess + plan)`);

  // ---- C: N concurrent rollouts ----
  const specC: DeliverySpec = {
    steps: [{ setWeight: 10 }, gate, { setWeight: 50 }, gate, { setWeight: 100 }],
    progressDeadlineMs: 600_000,
    scaleDownDelayMs: 0,
  };
  const metricC = { ...metric, count: 3 };
  const metricsC: ResolvedMetric[] = [{ template: 'bench', metric: metricC }];
  interface Sim { state: RolloutState | undefined; canary?: DeploymentObservation; stable: DeploymentObservation; prevWrites: string; due: number }
  const sims: Sim[] = Array.from({ length: ROLLOUTS }, (): Sim => ({ state: undefined, stable: ready('r1', 4), prevWrites: '', due: 0 }));
  let statusWrites = 0;
  let applies = 0;
  let steps = 0;
  let promoted = 0;
  queries = 0;
  perSecond.clear();
  const startC = Date.now();
  // stagger the starts over 2 s, as a wave of releases would
  sims.forEach((s, i) => (s.due = startC + (i * 2000) / ROLLOUTS));
  while (Date.now() - startC < SECONDS * 1000) {
    const now = new Date();
    await Promise.all(
      sims.map(async (s) => {
        if (s.due > now.getTime()) return;
        const m = new Map();
        const run = s.state?.phase === 'Progressing' ? s.state.currentRun : undefined;
        if (run) for (const name of dueMetrics(run, now)) m.set(name, await measureMetric(provider, metricC, { namespace: 'bench', service: 'shop', canaryRevision: 'r2', stableRevision: 'r1' }, now));
        const obs: Observations = { namespace: 'bench', service: 'shop', desiredRevision: 'r2', stable: s.stable, ...(s.canary ? { canary: s.canary } : {}), trafficMode: 'gatewayAPI', analysis: new Map([[1, { metrics: metricsC }], [3, { metrics: metricsC }]]), measurements: m };
        const p = plan(s.state, obs, specC, now);
        if (!statusEqual(s.state, p.state)) statusWrites += 1;
        steps += p.records.filter((r) => r.kind === 'stepCompleted').length;
        promoted += p.records.filter((r) => r.kind === 'succeeded').length;
        s.state = p.state;
        // The WebService reconciler applies what changed in the writes the state implies.
        const writes = desiredWrites(p.state, obs, specC);
        for (const w of writes) {
          const key = JSON.stringify(w);
          if (!s.prevWrites.includes(key)) applies += 1;
        }
        s.prevWrites = writes.map((w) => JSON.stringify(w)).join('|');
        // The simulated cluster: the Deployments become what was applied, Ready.
        for (const w of writes) {
          if (w.type === 'applyCanary') s.canary = ready(w.revision, w.replicas);
          if (w.type === 'applyStable') s.stable = ready(w.revision, 4);
        }
        s.due = now.getTime() + Math.max(200, Math.min(p.requeueAfterMs ?? 2000, 2000));
      }),
    );
    await sleep(50);
  }
  const elapsed = (Date.now() - startC) / 1000;
  if (global.gc) global.gc();
  const rss = process.memoryUsage();
  const statusBytes = sims.reduce((n, s) => n + JSON.stringify(s.state ?? {}).length, 0);
  out(`C. ${ROLLOUTS} concurrent rollouts for ${elapsed.toFixed(0)} s (5 steps, 2 analyses of 3 x 2 s): ${promoted} promoted, ${steps} steps completed`);
  const peak = Math.max(0, ...perSecond.values());
  out(`   Prometheus: peak ${peak} queries/s (${ROLLOUTS} analyses measuring every 2 s => ${(ROLLOUTS / 2).toFixed(0)}/s), mean ${(queries / elapsed).toFixed(0)}/s over the run; ${queries} queries`);
  out(`   writes per step: ${(statusWrites / Math.max(1, steps)).toFixed(2)} status writes (delivery; each measurement is recorded in status) + ${(applies / Math.max(1, steps)).toFixed(2)} object applies (WebService reconciler)`);
  out(`   resident memory ${(rss.rss / 1048576).toFixed(0)} MiB (heap used ${(rss.heapUsed / 1048576).toFixed(0)} MiB); rollout state ${(statusBytes / ROLLOUTS / 1024).toFixed(1)} kB per WebService`);
} finally {
  await emitter.stop();
  await prom.stop();
}
