import { describe, expect, it } from 'vitest';
import { metricsRegistry } from '../../src/kube/metrics.js';
import { recordRollout } from '../../src/delivery/metrics.js';
import { World } from './sim.js';

async function value(name: string, labels: Record<string, string> = {}): Promise<number> {
  const base = name.replace(/_count$/, '');
  const m = await metricsRegistry.getSingleMetric(base)?.get();
  const match =
    m?.values.filter(
      (v) => (base === name || (v as { metricName?: string }).metricName === name) && Object.entries(labels).every(([k, x]) => v.labels[k] === x),
    ) ?? [];
  return match.reduce((s, v) => s + v.value, 0);
}

describe('rollout metrics', () => {
  it('count a promoted rollout and a rolled-back one, with DORA inputs', async () => {
    const w = new World().boot();
    w.desiredRevision = 'r2';
    w.runUntil((x) => x.status?.phase === 'Healthy' && x.status.stableRevision === 'r2');
    w.desiredRevision = 'r3';
    w.result = () => ({ kind: 'value', value: 1 });
    w.runUntil((x) => x.status?.phase === 'RolledBack');
    const ns = 'metrics-test';
    recordRollout(ns, 'cart', w.plans.flatMap((p) => p.records));
    expect(await value('paved_rollouts_started_total', { namespace: ns })).toBe(2);
    expect(await value('paved_rollouts_succeeded_total', { namespace: ns })).toBe(1);
    expect(await value('paved_rollouts_rolled_back_total', { namespace: ns, reason: 'AnalysisFailed' })).toBe(1);
    expect(await value('paved_analysis_metric_results_total', { metric: 'error-rate', phase: 'Failed' })).toBeGreaterThanOrEqual(1);
    expect(await value('paved_rollout_lead_time_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(await value('paved_rollout_failure_to_rollback_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(await value('paved_rollout_step_duration_seconds_count', { step_type: 'setWeight' })).toBeGreaterThanOrEqual(3);
  });
});
