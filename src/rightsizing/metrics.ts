/**
 * paved_rightsizing_* metrics (names kept exactly: the Grafana dashboards build on them). Registered
 * once per registry.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import { perRegistry } from '../kube/metrics.js';
import { RecommendationStates } from './types.js';

export interface RightsizingMetrics {
  readonly recommendations: Gauge<'state'>;
  readonly recommendedRequest: Gauge<'namespace' | 'webservice' | 'container' | 'resource'>;
  readonly projectedSavings: Gauge<'team' | 'namespace' | 'webservice'>;
  readonly applied: Counter<'namespace'>;
  readonly rolledBack: Counter<'namespace' | 'reason'>;
  readonly runs: Counter<'outcome'>;
  readonly runDuration: Histogram;
}

/** The rightsizing metrics of a registry (created on first use). */
export const rightsizingMetrics = perRegistry((registers): RightsizingMetrics => {
  const m: RightsizingMetrics = {
    recommendations: new Gauge({ name: 'paved_rightsizing_recommendations', help: 'Recommendations by state.', labelNames: ['state'] as const, registers }),
    recommendedRequest: new Gauge({
      name: 'paved_rightsizing_recommended_request',
      help: 'Recommended request per container: cores (resource="cpu") or bytes (resource="memory").',
      labelNames: ['namespace', 'webservice', 'container', 'resource'] as const,
      registers,
    }),
    projectedSavings: new Gauge({
      name: 'paved_rightsizing_projected_savings_monthly',
      help: 'Projected monthly savings of applying the recommendation (cost model currency).',
      labelNames: ['team', 'namespace', 'webservice'] as const,
      registers,
    }),
    applied: new Counter({ name: 'paved_rightsizing_applied_total', help: 'Recommendations applied (a rollout started).', labelNames: ['namespace'] as const, registers }),
    rolledBack: new Counter({ name: 'paved_rightsizing_rolled_back_total', help: 'Applied recommendations rolled back, by reason.', labelNames: ['namespace', 'reason'] as const, registers }),
    runs: new Counter({ name: 'paved_rightsizing_runs_total', help: 'Engine runs by outcome.', labelNames: ['outcome'] as const, registers }),
    runDuration: new Histogram({ name: 'paved_rightsizing_run_duration_seconds', help: 'Wall time of one engine run.', buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120], registers }),
  };
  for (const state of RecommendationStates) m.recommendations.set({ state }, 0);
  return m;
});
