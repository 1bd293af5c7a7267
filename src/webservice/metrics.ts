/**
 * WebService metrics, on the controller's registry (served on /metrics):
 * - `paved_webservices{tier}`: WebServices per golden-path tier (managed, configured, advanced), the
 *   platform's headline adoption figure; computed at scrape time from the informer caches, so it is always
 *   the current state and never drifts;
 * - `paved_webservice_policy_violations{policy, mode}`: violations currently reported in statuses;
 * - `paved_webservice_policy_violations_observed_total{policy, mode}`: violations counted when they first
 *   appear on a WebService (audit mode measures a rule with these before it is enforced).
 * Process-wide singletons; each running controller registers its cache as a source.
 */
import { Counter, Gauge } from 'prom-client';
import { metricsRegistry } from '../kube/metrics.js';
import { tierOf, type GoldenPathTier, type WebService } from './render/index.js';
import type { Violation } from './policy/types.js';

/** Something listing WebServices (an informer). */
export interface WebServiceSource {
  list(): WebService[];
}

const sources = new Set<WebServiceSource>();
const TIERS: readonly GoldenPathTier[] = ['managed', 'configured', 'advanced'];

function allWebServices(): WebService[] {
  const seen = new Map<string, WebService>();
  for (const s of sources) for (const ws of s.list()) seen.set(`${ws.metadata?.namespace}/${ws.metadata?.name}`, ws);
  return [...seen.values()];
}

/** Counts per tier (pure). */
export function countByTier(list: readonly WebService[]): Record<GoldenPathTier, number> {
  const out: Record<GoldenPathTier, number> = { managed: 0, configured: 0, advanced: 0 };
  for (const ws of list) out[tierOf(ws.spec)]++;
  return out;
}

export const webServiceMetrics = {
  byTier: new Gauge({
    name: 'paved_webservices',
    help: 'WebServices by golden-path tier (managed, configured, advanced).',
    labelNames: ['tier'] as const,
    registers: [metricsRegistry],
    collect() {
      const counts = countByTier(allWebServices());
      for (const t of TIERS) this.set({ tier: t }, counts[t]);
    },
  }),
  violations: new Gauge({
    name: 'paved_webservice_policy_violations',
    help: 'Policy violations currently reported in WebService statuses, by policy and mode.',
    labelNames: ['policy', 'mode'] as const,
    registers: [metricsRegistry],
    collect() {
      this.reset();
      for (const ws of allWebServices()) {
        for (const v of ws.status?.policy?.violations ?? []) this.inc({ policy: v.policy, mode: v.mode });
      }
    },
  }),
  violationsObserved: new Counter({
    name: 'paved_webservice_policy_violations_observed_total',
    help: 'Policy violations counted when they first appear on a WebService, by policy and mode.',
    labelNames: ['policy', 'mode'] as const,
    registers: [metricsRegistry],
  }),
};

/** Registers a cache as a source of the gauges; returns the unregister function. */
export function addWebServiceSource(source: WebServiceSource): () => void {
  sources.add(source);
  return () => sources.delete(source);
}

function violationKey(v: { policy: string; object: string; field: string; mode: string }): string {
  return `${v.policy}|${v.object}|${v.field}|${v.mode}`;
}

/** Violations in `next` that were not in `previous` (pure). */
export function newViolations(
  previous: readonly { policy: string; object: string; field: string; mode: string }[] | undefined,
  next: readonly Violation[],
): Violation[] {
  const before = new Set((previous ?? []).map(violationKey));
  return next.filter((v) => !before.has(violationKey(v)));
}

/** Counts violations that newly appeared on a WebService. */
export function recordNewViolations(violations: readonly Violation[]): void {
  for (const v of violations) webServiceMetrics.violationsObserved.inc({ policy: v.policy, mode: v.mode });
}
