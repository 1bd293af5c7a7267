/**
 * Server-side apply with the `paved` field manager (force: paved owns its intent), skipped when the live
 * object already matches, so a steady-state resync sends no write at all.
 *
 * "Matches" = (1) the live object carries the hash of this exact intent in `paved.dev/applied-hash`, and
 * (2) every field of the intent has the same value on the live object (others' extra fields are fine).
 * (1) catches fields removed from the intent (SSA would delete them; a subset check cannot see that);
 * (2) catches drift (someone edited a field paved owns). Renderers should emit canonical values
 * (e.g. quantities as the API server prints them: "500m", "1Gi") or the object is re-applied every time
 * (correct, but counted as a write).
 *
 * The request is a raw `application/apply-patch+yaml` PATCH on the counted transport rather than
 * `KubernetesObjectApi.patch`: client-node serialises known kinds through its generated models, which drop
 * fields the models do not know and fail on string timestamps; raw JSON sends the intent exactly.
 */
import { createHash } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { sameCachedString } from './cache-digest.js';
import { FIELD_MANAGER, type KubeClients } from './client.js';
import { canonicalJson } from '../json/canonical.js';

/** Annotation holding the hash of the last applied intent. */
export const APPLIED_HASH_ANNOTATION = 'paved.dev/applied-hash';

/** Options of applyObject. */
export interface ApplyOptions<T> {
  /**
   * The live object if the caller has it (from an informer cache), or null when known absent.
   * When undefined, the live object is read (a GET, not a write).
   */
  current?: T | null;
  /** Force ownership of conflicting fields. Default true. */
  force?: boolean;
  /** Send the apply even when the live object matches. */
  always?: boolean;
  /** Field manager; default `paved`. */
  fieldManager?: string;
}

/** The outcome of applyObject. */
export interface ApplyResult<T> {
  /** The object after the apply (or the live object when skipped). */
  object: T;
  /** True when a request was sent (a write). */
  sent: boolean;
  /** True when the object changed (new resourceVersion or created). */
  changed: boolean;
}

/** A short stable hash of an intent (key order does not matter; the hash annotation itself is excluded). */
export function hashIntent(obj: object): string {
  const copy = structuredClone(obj) as KubernetesObject;
  if (copy.metadata?.annotations) {
    delete copy.metadata.annotations[APPLIED_HASH_ANNOTATION];
    if (Object.keys(copy.metadata.annotations).length === 0) delete copy.metadata.annotations;
  }
  return createHash('sha256').update(canonicalJson(copy)).digest('hex').slice(0, 16);
}

/**
 * True when every field of `desired` is present with the same value in `live` (pure).
 * Objects: recursive on desired keys (null/undefined in desired = don't care). Arrays of scalars: equal
 * in order and length. Arrays of objects: each desired element is a subset of the live element at the same
 * index, or of some other live element (lists merged by key may be reordered or extended by others).
 * A string matches a cached digest of itself (cache-digest.ts).
 */
export function isSubset(desired: unknown, live: unknown): boolean {
  if (desired === undefined || desired === null) return true;
  if (Array.isArray(desired)) {
    if (!Array.isArray(live)) return false;
    if (desired.every((d) => d === null || typeof d !== 'object')) {
      return desired.length === live.length && desired.every((d, i) => d === live[i]);
    }
    return desired.every((d, i) => isSubset(d, live[i]) || live.some((l) => isSubset(d, l)));
  }
  if (typeof desired === 'object') {
    if (!live || typeof live !== 'object' || Array.isArray(live)) return false;
    return Object.entries(desired as Record<string, unknown>).every(([k, v]) =>
      isSubset(v, (live as Record<string, unknown>)[k]),
    );
  }
  return typeof desired === 'string' ? sameCachedString(desired, live) : desired === live;
}

/** The reference of an object to apply; throws naming the missing field. */
function refOf(desired: KubernetesObject): { apiVersion: string; kind: string; name: string; namespace?: string } {
  const name = desired.metadata?.name;
  if (!desired.apiVersion || !desired.kind || !name) throw new Error('applyObject: apiVersion, kind and metadata.name are required');
  return {
    apiVersion: desired.apiVersion,
    kind: desired.kind,
    name,
    ...(desired.metadata?.namespace ? { namespace: desired.metadata.namespace } : {}),
  };
}

/**
 * Applies `desired` (apiVersion, kind, metadata.name[, namespace] and the fields paved owns) with
 * server-side apply, unless the live object already matches (see the module header).
 */
export async function applyObject<T extends KubernetesObject>(
  clients: KubeClients,
  desired: T,
  opts: ApplyOptions<T> = {},
): Promise<ApplyResult<T>> {
  const ref = refOf(desired);
  const hash = hashIntent(desired);
  const intent = structuredClone(desired);
  intent.metadata = { ...intent.metadata, annotations: { ...intent.metadata?.annotations, [APPLIED_HASH_ANNOTATION]: hash } };
  const live = opts.current === undefined ? await clients.get<T>(ref) : opts.current;
  if (live && !opts.always && live.metadata?.annotations?.[APPLIED_HASH_ANNOTATION] === hash) {
    const { status: _ignored, ...spec } = intent as T & { status?: unknown };
    if (isSubset(spec, live)) return { object: live, sent: false, changed: false };
  }
  const object = await clients.request<T>({
    method: 'PATCH',
    path: await clients.resourcePath(ref),
    query: { fieldManager: opts.fieldManager ?? FIELD_MANAGER, force: opts.force ?? true },
    body: intent,
    contentType: 'application/apply-patch+yaml',
  });
  return { object, sent: true, changed: !live || live.metadata?.resourceVersion !== object.metadata?.resourceVersion };
}
