/**
 * Status writes through the status subresource, only when the status changed. Comparison is semantic:
 * key order, undefined/null-valued keys and timestamp formatting (a Date vs its RFC 3339 string, with or
 * without fractional zeros) do not count as changes; anything else does.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { canonicalJson } from '../json/canonical.js';
import type { KubeClients } from './client.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Timestamps compare by instant; null-valued keys count as absent (canonicalJson drops undefined ones). */
function normalizeLeaf(value: unknown): unknown {
  if (value === null) return undefined;
  if (typeof value === 'string' && RFC3339.test(value)) {
    const t = Date.parse(value);
    if (!Number.isNaN(t)) return `t:${t}`;
  }
  return value;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(a, normalizeLeaf) === canonicalJson(b, normalizeLeaf);
}

/** True when two statuses are semantically equal (pure). `undefined` equals `{}`. */
export function statusEqual(a: unknown, b: unknown): boolean {
  return deepEqual(a ?? {}, b ?? {});
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);
}

/**
 * An RFC 7386 JSON merge patch turning `from` into `to` (pure): changed keys with their new value,
 * removed keys as null, arrays replaced whole. Empty object when equal.
 */
export function createMergePatch(from: unknown, to: unknown): Record<string, unknown> {
  const a = isPlainObject(from) ? from : {};
  const b = isPlainObject(to) ? to : {};
  const patch: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(b)) {
    if (v === undefined) continue;
    const old = a[k];
    if (isPlainObject(v) && isPlainObject(old)) {
      const sub = createMergePatch(old, v);
      if (Object.keys(sub).length > 0) patch[k] = sub;
    } else if (!deepEqual(old, v) || old === undefined || old === null) {
      if (v !== null || (old !== undefined && old !== null)) patch[k] = v;
    }
  }
  for (const k of Object.keys(a)) {
    if ((b[k] === undefined || b[k] === null) && a[k] !== undefined && a[k] !== null) patch[k] = null;
  }
  return patch;
}

/** The outcome of writeStatus. */
export interface WriteStatusResult<T> {
  /** True when a patch was sent. */
  changed: boolean;
  /** The object returned by the API server (only when changed). */
  object?: T;
}

/**
 * Sets `obj.status` to `status` through the status subresource (a JSON merge patch of the difference,
 * conditional on `obj`'s resourceVersion), or does nothing when equal. `obj` is the observed object
 * (e.g. from the informer cache); a stale one gets a 409 Conflict, and the controller requeues.
 */
export async function writeStatus<T extends KubernetesObject & { status?: unknown }>(
  clients: KubeClients,
  obj: T,
  status: NonNullable<T['status']> | Record<string, unknown>,
): Promise<WriteStatusResult<T>> {
  if (statusEqual(obj.status, status)) return { changed: false };
  const name = obj.metadata?.name;
  if (!obj.apiVersion || !obj.kind || !name) throw new Error('writeStatus: apiVersion, kind and metadata.name are required');
  const path = await clients.resourcePath(
    { apiVersion: obj.apiVersion, kind: obj.kind, name, ...(obj.metadata?.namespace ? { namespace: obj.metadata.namespace } : {}) },
    'status',
  );
  // The resourceVersion makes the patch conditional: a status computed from a stale cache gets 409
  // Conflict (and a requeue) instead of silently dropping what another writer just added, such as a
  // condition in an array that a merge patch replaces whole.
  const resourceVersion = obj.metadata?.resourceVersion;
  const patch = {
    ...(resourceVersion ? { metadata: { resourceVersion } } : {}),
    status: createMergePatch(obj.status ?? {}, status),
  };
  const object = await clients.request<T>({ method: 'PATCH', path, body: patch, contentType: 'application/merge-patch+json' });
  return { changed: true, object };
}
