/**
 * Requests and limits: the size tier gives them, the configured tier may replace any of them, and the
 * result always has requests <= limits for both CPU and memory (limits are never left unset).
 */
import type { V1ResourceRequirements } from '@kubernetes/client-node';
import { parseQuantity } from '../../kube/quantity.js';
import type { Overrides, SizeTier } from './spec.js';

interface Pair {
  cpu: string;
  memory: string;
}

/** Requests and limits per size tier. */
export const SIZE_TIERS: Readonly<Record<SizeTier, { requests: Pair; limits: Pair }>> = Object.freeze({
  small: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
  medium: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' } },
  large: { requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '2', memory: '4Gi' } },
});

function larger(a: string, b: string): string {
  return parseQuantity(a) >= parseQuantity(b) ? a : b;
}

function smaller(a: string, b: string): string {
  return parseQuantity(a) <= parseQuantity(b) ? a : b;
}

function resolve(key: keyof Pair, base: { requests: Pair; limits: Pair }, o: Overrides['resources']): [string, string] {
  const req = o?.requests?.[key];
  const lim = o?.limits?.[key];
  const limit = lim ?? (req ? larger(base.limits[key], req) : base.limits[key]);
  const request = req ?? smaller(base.requests[key], limit);
  return [request, limit];
}

/**
 * Requests and limits of the app container. `applied` (rightsizing's applied requests) replaces the
 * requests; a limit the developer set stays, else the tier's limit, raised to the request when below it.
 */
export function renderResources(tier: SizeTier, overrides: Overrides['resources'], applied?: { cpu?: string; memory?: string }): V1ResourceRequirements {
  if (applied && (applied.cpu !== undefined || applied.memory !== undefined)) {
    const requests = { ...overrides?.requests, ...(applied.cpu !== undefined ? { cpu: applied.cpu } : {}), ...(applied.memory !== undefined ? { memory: applied.memory } : {}) };
    return renderResources(tier, { ...overrides, requests });
  }
  const base = SIZE_TIERS[tier];
  const [cpuReq, cpuLim] = resolve('cpu', base, overrides);
  const [memReq, memLim] = resolve('memory', base, overrides);
  return { requests: { cpu: cpuReq, memory: memReq }, limits: { cpu: cpuLim, memory: memLim } };
}
