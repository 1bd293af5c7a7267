/**
 * Adapters from the API's preview and cost seams to the capabilities that implement them:
 * - `rendererPreview`: the WebService controller's preview (its render context and policy context:
 *   dependents, applied rightsizing, host claims), so the preview shows what the controller then does;
 * - `requestsCostProjection`: a projected monthly cost of rendered objects from their requests, priced
 *   with src/cost's Pricing (OpenCost defaults): sum over Deployments of replicas x (cpu x core-hour +
 *   memory x GiB-hour) x 730 h. Replicas are the Deployment's, or the HPA's minReplicas when the HPA owns
 *   them: a floor, which is what a developer needs to see before deploying.
 * Both are pure (the preview reads the controller's caches).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { HOURS_PER_MONTH, type Pricing } from '../cost/pricing.js';
import type { Preview } from '../webservice/preview.js';
import { parseQuantity } from '../kube/quantity.js';
import type { WebService } from '../webservice/render/index.js';
import type { CostFn, PreviewFn } from './routes/context.js';

/** A PreviewFn over a WebService preview (the controller's `preview`). */
export function rendererPreview(previewOf: (ws: WebService, team: string) => Preview): PreviewFn {
  return (ws, { team }) => {
    const preview = previewOf(ws as WebService, team);
    return { objects: preview.objects as KubernetesObject[], violations: preview.policy.violations, allowed: preview.policy.allowed };
  };
}

interface Workload extends KubernetesObject {
  spec?: {
    replicas?: number;
    minReplicas?: number;
    scaleTargetRef?: { kind?: string; name?: string };
    template?: { spec?: { containers?: Array<{ name?: string; resources?: { requests?: Record<string, string> } }> } };
  };
}

function quantity(q: string | undefined): number {
  if (!q) return 0;
  try {
    return parseQuantity(q);
  } catch {
    return 0;
  }
}

/** The CPU (cores) and memory (GiB) one pod of a Deployment requests, summed over its containers. */
function podRequests(d: Workload): { cpu: number; mem: number } {
  let cpu = 0;
  let mem = 0;
  for (const c of d.spec?.template?.spec?.containers ?? []) {
    cpu += quantity(c.resources?.requests?.['cpu']);
    mem += quantity(c.resources?.requests?.['memory']) / 2 ** 30;
  }
  return { cpu, mem };
}

/** A CostFn pricing the requests of rendered Deployments. */
export function requestsCostProjection(pricing: Pricing): CostFn {
  return (objects) => {
    const all = objects as Workload[];
    const hpaMin = new Map<string, number>();
    for (const o of all) {
      if (o.kind === 'HorizontalPodAutoscaler' && o.spec?.scaleTargetRef?.name) hpaMin.set(o.spec.scaleTargetRef.name, o.spec.minReplicas ?? 1);
    }
    const breakdown: Array<{ deployment: string; replicas: number; cpuCores: number; memoryGiB: number; monthly: number }> = [];
    let monthly = 0;
    for (const d of all.filter((o) => o.kind === 'Deployment')) {
      const name = d.metadata?.name ?? '';
      const replicas = d.spec?.replicas ?? hpaMin.get(name) ?? 1;
      const { cpu, mem } = podRequests(d);
      const cost = replicas * (cpu * pricing.cpuCoreHour + mem * pricing.memoryGiBHour) * HOURS_PER_MONTH;
      monthly += cost;
      breakdown.push({ deployment: name, replicas, cpuCores: cpu, memoryGiB: mem, monthly: round(cost) });
    }
    return { monthly: round(monthly), currency: pricing.currency, breakdown };
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
