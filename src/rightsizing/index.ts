/**
 * Rightsizing (docs/rightsizing.md): recommend (pure), the stability rule (pure), the lifecycle
 * planner (pure), and the scheduled engine run that writes one Recommendation per WebService. The
 * WebService reconcile reads a Recommendation's applied requests as a render input (applied.ts).
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Team } from '../api/index.js';
import { loadBuiltinTemplates } from '../analysis/templates.js';
import { createCostPrometheus } from '../cost/prometheus.js';
import type { Pricing } from '../cost/pricing.js';
import { serviceAccountUser, type EventRecorder, type InformerFactory, type KubeClients } from '../kube/index.js';
import { createRecommendationRoutes, RECOMMENDATIONS_ROUTE } from './routes.js';
import { RightsizingEngine } from './engine.js';
import { rightsizingMetrics } from './metrics.js';
import { scheduleRightsizing } from './schedule.js';
import { loadRightsizingSettings } from './settings.js';
import { DEFAULT_SETTINGS, type RightsizingMode, type RightsizingSettings } from './types.js';

export { RightsizingEngine, modeOf, type RunReport, type RunOutcome } from './engine.js';
export { rightsizingMetrics } from './metrics.js';
export { recommendContainer } from './recommend.js';
export { assessStability } from './stability.js';
export { planLifecycle } from './plan.js';
export { scheduleRightsizing } from './schedule.js';
export { createRecommendationRoutes, teamRecommendations, RECOMMENDATIONS_ROUTE, type TeamRecommendations } from './routes.js';
export { DEFAULT_SETTINGS, type RightsizingSettings } from './types.js';
export { loadRightsizingSettings, parseRightsizingSettings } from './settings.js';

/** The latency and error-rate PromQL of the watch: the built-in analysis templates' (latency-p99, error-rate). */
export async function builtinWatchTemplates(): Promise<{ latency: string; errorRate: string }> {
  const t = await loadBuiltinTemplates();
  const query = (name: string): string => {
    const q = t.get(name)?.metrics[0]?.query;
    if (!q) throw new Error(`the built-in analysis template ${name} has no query`);
    return q.trim();
  };
  return { latency: query('latency-p99'), errorRate: query('error-rate') };
}

export interface RightsizingWiring {
  clients: KubeClients;
  informers: InformerFactory;
  events: EventRecorder;
  logger: Logger;
  registry: Registry;
  prometheusUrl: string;
  pricing: Pricing;
  cron: string;
  defaultMode: RightsizingMode;
  timezone: string;
  /** The range of the CPU usage rate (PAVED_RIGHTSIZING_RATE_WINDOW). */
  rateWindow?: string;
  /** PAVED_RIGHTSIZING_FILE: overrides of the defaults (settings.ts). */
  settingsFile?: string;
  team: (name: string) => Team | undefined;
  teamOfNamespace: (namespace: string) => string | undefined;
  isLeader: () => boolean;
}

/** The engine, its schedule (leader only) and its route module, for main.ts. */
export async function createRightsizing(w: RightsizingWiring) {
  const base: RightsizingSettings = { ...DEFAULT_SETTINGS, window: { ...DEFAULT_SETTINGS.window, timezone: w.timezone }, rateWindow: w.rateWindow ?? DEFAULT_SETTINGS.rateWindow };
  const settings = await loadRightsizingSettings(w.settingsFile, base);
  const engine = new RightsizingEngine({
    clients: w.clients,
    informers: w.informers,
    prometheus: createCostPrometheus({ url: w.prometheusUrl, timeoutMs: 60_000 }),
    events: w.events,
    metrics: rightsizingMetrics(w.registry),
    logger: w.logger.child({ component: 'rightsizing' }),
    settings,
    pricing: w.pricing,
    defaultMode: w.defaultMode,
    team: w.team,
    teamOfNamespace: w.teamOfNamespace,
    writerFor: (ns) => w.clients.impersonate(serviceAccountUser(ns, 'paved-deployer')),
    watchTemplates: await builtinWatchTemplates(),
  });
  const schedule = scheduleRightsizing(engine, { cron: w.cron, isLeader: w.isLeader });
  const recommendations = engine.recommendationCache();
  return {
    engine,
    routes: { path: RECOMMENDATIONS_ROUTE, app: createRecommendationRoutes({ list: () => recommendations.list(), teamOfNamespace: w.teamOfNamespace }) },
    stop: () => schedule.stop(),
  };
}
