/**
 * How big the canary is, relative to the stable Deployment whose replica count the HPA owns.
 *
 * The HPA targets the stable Deployment only; paved never writes the stable replica count, so the
 * HPA and the rollout never fight. The canary follows the stable count, recomputed at every
 * reconcile (a change of the stable Deployment's replicas triggers one):
 *
 * - Gateway API (weights on the HTTPRoute): canary = ceil(stable * weight / 100), at least 1 while
 *   the weight is above 0. The canary has the capacity for its share of traffic, and the stable keeps
 *   its full capacity, so a rollback can send everything back at once.
 * - Replica ratio (no Gateway API; the `<name>` Service selects both tracks): the canary's share is
 *   canary / (stable + canary), so canary = ceil(stable * weight / (100 - weight)), capped at the
 *   stable count (a share of at most 50%): going beyond would need the stable scaled down, which is
 *   the HPA's job. The 100% step then promotes (the stable Deployment takes the new template).
 *
 * Pure.
 */
import type { TrafficMode } from './types.js';

/** Canary replicas for a canary weight (percent) given the stable Deployment's replica count. */
export function canaryReplicas(stableReplicas: number, weight: number, mode: TrafficMode): number {
  if (weight <= 0) return 0;
  const stable = Math.max(1, stableReplicas);
  if (mode === 'gatewayAPI') return Math.max(1, Math.ceil((stable * Math.min(weight, 100)) / 100));
  if (weight >= 100) return stable;
  return Math.min(stable, Math.max(1, Math.ceil((stable * weight) / (100 - weight))));
}

/** The canary's share of requests (percent) that a replica split actually gives. */
export function replicaShare(stableReplicas: number, canary: number): number {
  const total = stableReplicas + canary;
  return total === 0 ? 0 : (100 * canary) / total;
}
