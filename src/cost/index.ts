/**
 * The cost capability's public surface and its wiring. main.ts needs only:
 *
 * ```ts
 * const pricing = await loadPricing(config.PAVED_PRICING_FILE);
 * const cost = createCost({ prometheusUrl: config.PAVED_PROMETHEUS_URL, pricing, listTeams: () => teamInformer.list(),
 *                           logger, registry: metricsRegistry });
 * app.route('/api/v1', cost.routes);                       // the server's API prefix
 * const loop = startBudgetLoop({ cost: cost.service, clients, events, listTeams: () => teamInformer.list(),
 *                                metrics: budgetMetrics(metricsRegistry), logger });   // on the leader only
 * ```
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Hono } from 'hono';
import { Counter, type Registry } from 'prom-client';
import { perRegistry } from '../kube/metrics.js';
import type { Logger } from '../log.js';
import type { ApiEnv } from '../access/index.js';
import type { Pricing } from './pricing.js';
import { createCostPrometheus, withCache, type CostCacheOptions } from './prometheus.js';
import { createCostRoutes } from './routes.js';
import { CostService } from './service.js';
import { teamDirectoryFrom } from './teams.js';

export { loadPricing, parsePricing, DEFAULT_PRICING, type Pricing } from './pricing.js';
export { CostService, createCostService, type CostServiceDeps } from './service.js';
export { createCostRoutes, type CostRoutesDeps } from './routes.js';
export { startBudgetLoop, evaluateBudgets, budgetMetrics, type BudgetLoop, type BudgetLoopDeps } from './budget-loop.js';
export { assessBudget, BUDGET_CONDITION, BudgetReasons } from './budget.js';
export { startCostWarmer, DEFAULT_WARM_WINDOWS, type CostWarmer, type CostWarmerOptions } from './warm.js';
export { staticTeamDirectory, teamDirectoryFrom, type TeamDirectory, type TeamInfo } from './teams.js';

export interface CostWiring {
  readonly prometheusUrl: string;
  readonly pricing: Pricing;
  /** Team objects (e.g. the Team informer cache's list). */
  readonly listTeams: () => Promise<readonly KubernetesObject[]> | readonly KubernetesObject[];
  readonly logger?: Logger;
  /** Where `paved_cost_promql_queries_total` is registered. */
  readonly registry?: Registry;
  readonly cache?: CostCacheOptions;
  readonly queryTimeoutMs?: number;
  readonly now?: () => Date;
  /** Path prefix of the routes (default `/cost`; '' when the API mounts them under `/cost`). */
  readonly routePrefix?: string;
}

const queryCounter = perRegistry(
  (registers) =>
    new Counter({
      name: 'paved_cost_promql_queries_total',
      help: 'PromQL queries sent by the cost API (cache misses), by kind (range, instant).',
      labelNames: ['kind'] as const,
      registers,
    }),
);

/** Builds the cost service (cached Prometheus client) and its routes. */
export function createCost(w: CostWiring): { service: CostService; routes: Hono<ApiEnv> } {
  const counter = w.registry ? queryCounter(w.registry) : undefined;
  const prometheus = withCache(
    createCostPrometheus({
      url: w.prometheusUrl,
      ...(w.queryTimeoutMs !== undefined ? { timeoutMs: w.queryTimeoutMs } : {}),
      ...(counter ? { onQuery: (kind: 'range' | 'instant') => counter.inc({ kind }) } : {}),
    }),
    w.cache,
  );
  const service = new CostService({
    prometheus,
    teams: teamDirectoryFrom(w.listTeams),
    pricing: w.pricing,
    ...(w.now ? { now: w.now } : {}),
  });
  return {
    service,
    routes: createCostRoutes({ cost: service, ...(w.logger ? { logger: w.logger } : {}) }, { prefix: w.routePrefix ?? '/cost' }),
  };
}
