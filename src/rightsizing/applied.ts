/**
 * The WebService reconcile's view of rightsizing: which requests a Recommendation applies (its
 * `spec.applied`), as a render input. Written only by the rightsizing engine; read from the shared
 * Recommendation informer, so the applied requests are one more input of the single WebService
 * reconcile and roll out through its canary like any template change.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { PAVED_API_VERSION } from '../api/index.js';
import type { Recommendation } from '../api/generated/recommendation.js';
import type { AppliedRequests } from '../webservice/render/context.js';

export const RECOMMENDATION_KIND = 'Recommendation';
export const RECOMMENDATION_API_VERSION = PAVED_API_VERSION;

export type RecommendationObject = Recommendation & KubernetesObject;

/** Whether the Recommendation's applied requests hold: neither the WebService's own mode nor the engine's record says other than auto. */
function applies(rec: Pick<Recommendation, 'spec'> | undefined, ws: { spec?: unknown } | undefined): boolean {
  const own = (ws?.spec as { rightsizing?: { mode?: string } } | undefined)?.rightsizing?.mode;
  return (own === undefined || own === 'auto') && (rec?.spec?.mode === undefined || rec.spec.mode === 'auto');
}

/**
 * The applied requests of a Recommendation (undefined: none; the spec's own requests). Only `auto`
 * applies: a WebService whose own mode is now `off` or `recommend` renders its spec's requests at once,
 * whatever the Recommendation still holds (the engine deletes the Recommendation of a service that is off,
 * which covers a mode deleted from the spec and so taken from the Team or the platform).
 */
export function appliedRequestsOf(rec: Pick<Recommendation, 'spec'> | undefined, ws?: { spec?: unknown }): AppliedRequests | undefined {
  if (!applies(rec, ws)) return undefined;
  const containers = rec?.spec?.applied?.containers;
  if (!containers?.length) return undefined;
  const out: Record<string, { cpu?: string; memory?: string }> = {};
  for (const c of containers) {
    if (c.cpu === undefined && c.memory === undefined) continue;
    out[c.name] = { ...(c.cpu !== undefined ? { cpu: c.cpu } : {}), ...(c.memory !== undefined ? { memory: c.memory } : {}) };
  }
  return Object.keys(out).length ? out : undefined;
}

/** The WebService a Recommendation belongs to (same namespace). */
export function webServiceOf(rec: RecommendationObject): string | undefined {
  return rec.spec?.webService ?? rec.metadata?.name;
}
