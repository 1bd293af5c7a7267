/**
 * A tracker of this controller's own writes, to see through a stale cache (the Argo Rollouts pattern).
 * A reconcile often runs again before the informer has delivered the object its previous pass wrote (the
 * children it created requeue the key at once); comparing against the stale cached copy would repeat the
 * same apply, status patch and Events. The tracker keeps the object each write returned and hands it out
 * instead of the cached one while the cache is older; an entry is dropped as soon as the cache catches up,
 * so memory holds only writes in flight.
 *
 * resourceVersions are compared as integers, which is what etcd-backed API servers issue; anything else
 * makes the tracker defer to the cache.
 */
import type { KubernetesObject } from '@kubernetes/client-node';

function rv(obj: KubernetesObject | null | undefined): bigint | undefined {
  const v = obj?.metadata?.resourceVersion;
  return v && /^[0-9]+$/.test(v) ? BigInt(v) : undefined;
}

function keyOf(o: { apiVersion?: string; kind?: string; metadata?: { namespace?: string; name?: string } }): string {
  return `${o.apiVersion}|${o.kind}|${o.metadata?.namespace ?? ''}|${o.metadata?.name ?? ''}`;
}

export class OwnWrites {
  private readonly written = new Map<string, KubernetesObject>();

  /** Remembers the object a write returned. */
  remember(obj: KubernetesObject | undefined): void {
    if (obj?.metadata?.name && rv(obj) !== undefined) this.written.set(keyOf(obj), obj);
  }

  /** Forgets an object (deleted). */
  forget(ref: { apiVersion?: string; kind?: string; metadata?: { namespace?: string; name?: string } }): void {
    this.written.delete(keyOf(ref));
  }

  /**
   * The freshest known state of `ref`: our own write when the cache has not caught up with it, else the
   * cached object (`cached` may be null for "not in the cache").
   */
  fresher<T extends KubernetesObject>(ref: { apiVersion?: string; kind?: string; metadata?: { namespace?: string; name?: string } }, cached: T | null): T | null {
    const key = keyOf(ref);
    const own = this.written.get(key) as T | undefined;
    if (!own) return cached;
    const ownRv = rv(own);
    const cachedRv = rv(cached);
    if (cached && (cachedRv === undefined || ownRv === undefined || cachedRv >= ownRv)) {
      this.written.delete(key); // the cache caught up
      return cached;
    }
    if (cached && cached.metadata?.uid && own.metadata?.uid && cached.metadata.uid !== own.metadata.uid) {
      this.written.delete(key); // recreated by someone else
      return cached;
    }
    return own;
  }

  /** Entries held (writes the cache has not caught up with). */
  get size(): number {
    return this.written.size;
  }
}
