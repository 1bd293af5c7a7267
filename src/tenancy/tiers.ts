/**
 * What each quota tier means per namespace, and how an explicit quota becomes the same shape (pure).
 * Limits in the quota are twice the requests (burst room); container maxima never exceed the
 * namespace's limits; container defaults never exceed the maxima (the API server rejects a
 * LimitRange whose default is above its max).
 */
import type { TeamQuota } from '../api/index.js';
import { familyOf, formatBytes, formatCpu, parseQuantity, type QuantityFamily } from '../kube/quantity.js';

/** A namespace's resource envelope in base units (cores, bytes). */
export interface NamespaceEnvelope {
  requestsCpu: number;
  requestsMemory: number;
  pods: number;
  storage: number;
  /** How memory and storage were written (kept so rendered quantities match what the server stores). */
  memoryFamily?: QuantityFamily;
  storageFamily?: QuantityFamily;
}

const GI = 2 ** 30;
const MI = 2 ** 20;

/** The tiers, per namespace. */
export const TIERS = {
  small: { requestsCpu: 2, requestsMemory: 4 * GI, pods: 20, storage: 20 * GI },
  medium: { requestsCpu: 8, requestsMemory: 16 * GI, pods: 60, storage: 100 * GI },
  large: { requestsCpu: 32, requestsMemory: 64 * GI, pods: 200, storage: 500 * GI },
} as const satisfies Record<string, NamespaceEnvelope>;

/** Largest single container, whatever the quota. */
const CONTAINER_CAP = { cpu: 8, memory: 16 * GI };
/** Defaults for containers that set nothing. */
const CONTAINER_DEFAULT_LIMIT = { cpu: 0.5, memory: 512 * MI };
const CONTAINER_DEFAULT_REQUEST = { cpu: 0.1, memory: 128 * MI };

/** The envelope of a Team quota: a tier's, or the explicit values (validated by the CRD). */
export function envelopeOf(quota: TeamQuota): NamespaceEnvelope {
  if (quota.tier) return TIERS[quota.tier];
  return {
    requestsCpu: parseQuantity(quota.cpu ?? '0'),
    requestsMemory: parseQuantity(quota.memory ?? '0'),
    pods: quota.pods ?? 0,
    storage: parseQuantity(quota.storage ?? '0'),
    memoryFamily: familyOf(quota.memory ?? ''),
    storageFamily: familyOf(quota.storage ?? ''),
  };
}

/** ResourceQuota `spec.hard` for an envelope (keys sorted, quantities canonical). */
export function quotaHard(env: NamespaceEnvelope): Record<string, string> {
  return {
    'limits.cpu': formatCpu(env.requestsCpu * 2),
    'limits.memory': formatBytes(env.requestsMemory * 2, env.memoryFamily),
    pods: String(env.pods),
    'requests.cpu': formatCpu(env.requestsCpu),
    'requests.memory': formatBytes(env.requestsMemory, env.memoryFamily),
    'requests.storage': formatBytes(env.storage, env.storageFamily),
    // Teams reach the outside through the platform gateway, not their own load balancers or node ports.
    'services.loadbalancers': '0',
    'services.nodeports': '0',
  };
}

/** LimitRange container limits for an envelope: max, default (limit) and defaultRequest. */
export function containerLimits(env: NamespaceEnvelope): {
  max: Record<string, string>;
  default: Record<string, string>;
  defaultRequest: Record<string, string>;
} {
  const maxCpu = Math.min(CONTAINER_CAP.cpu, env.requestsCpu * 2);
  const maxMemory = Math.min(CONTAINER_CAP.memory, env.requestsMemory * 2);
  const defCpu = Math.min(CONTAINER_DEFAULT_LIMIT.cpu, maxCpu);
  const defMemory = Math.min(CONTAINER_DEFAULT_LIMIT.memory, maxMemory);
  return {
    max: { cpu: formatCpu(maxCpu), memory: formatBytes(maxMemory) },
    default: { cpu: formatCpu(defCpu), memory: formatBytes(defMemory) },
    defaultRequest: {
      cpu: formatCpu(Math.min(CONTAINER_DEFAULT_REQUEST.cpu, defCpu)),
      memory: formatBytes(Math.min(CONTAINER_DEFAULT_REQUEST.memory, defMemory)),
    },
  };
}
