/**
 * Work-queue keys: `namespace/name` for namespaced objects, `name` for cluster-scoped ones.
 * A key is the only input of a reconcile (level-triggered: never branch on the event).
 */

/** A queue key: `ns/name` or `name`. */
export type ObjectKey = string;

/** Anything with (optional) namespace and name in its metadata. */
export interface ObjectRefLike {
  metadata?: { namespace?: string | undefined; name?: string | undefined } | undefined;
}

/** Builds the key of a namespace/name pair; cluster-scoped objects (no namespace) are keyed by name. */
export function keyOf(namespace: string | undefined | null, name: string): ObjectKey {
  return namespace ? `${namespace}/${name}` : name;
}

/** The key of an object; throws when the object has no name (a bug in the caller). */
export function objectKey(obj: ObjectRefLike): ObjectKey {
  const name = obj.metadata?.name;
  if (!name) throw new Error('object has no metadata.name');
  return keyOf(obj.metadata?.namespace, name);
}

/** Splits a key back into namespace (undefined for cluster-scoped) and name. */
export function splitKey(key: ObjectKey): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  if (i < 0) return { name: key };
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
