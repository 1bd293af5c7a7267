/**
 * Owner references: a controller reference makes the garbage collector delete children with their owner.
 * Only for owners in the same namespace, or cluster-scoped owners; anything else is tracked by label and
 * cleaned up by a finalizer.
 */
import type { KubernetesObject, V1OwnerReference } from '@kubernetes/client-node';

/** What an owner needs: apiVersion, kind, name, uid. */
export interface OwnerLike {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; uid?: string };
}

/**
 * A controller owner reference to `owner`. `blockOwnerDeletion` is off by default: setting it requires
 * `update` on the owner's `finalizers` subresource, which a least-privilege (impersonated) writer lacks.
 */
export function controllerOwnerRef(owner: OwnerLike, opts: { blockOwnerDeletion?: boolean } = {}): V1OwnerReference {
  const { apiVersion, kind } = owner;
  const name = owner.metadata?.name;
  const uid = owner.metadata?.uid;
  if (!apiVersion || !kind || !name || !uid) throw new Error('controllerOwnerRef: owner needs apiVersion, kind, name and uid');
  return { apiVersion, kind, name, uid, controller: true, ...(opts.blockOwnerDeletion ? { blockOwnerDeletion: true } : {}) };
}

/** A copy of `obj` with a controller reference to `owner` (replacing any reference with the same uid). */
export function withOwner<T extends KubernetesObject>(obj: T, owner: OwnerLike, opts: { blockOwnerDeletion?: boolean } = {}): T {
  const ref = controllerOwnerRef(owner, opts);
  const others = (obj.metadata?.ownerReferences ?? []).filter((r) => r.uid !== ref.uid);
  return { ...obj, metadata: { ...obj.metadata, ownerReferences: [...others, ref] } };
}

/** True when `obj` has an owner reference to `owner` (by uid). */
export function isOwnedBy(obj: KubernetesObject, owner: OwnerLike): boolean {
  const uid = owner.metadata?.uid;
  return !!uid && (obj.metadata?.ownerReferences ?? []).some((r) => r.uid === uid);
}

/** Names of the owners of `obj` of a kind (controller owners first). */
export function ownerKeys(obj: KubernetesObject, kind: string): string[] {
  return (obj.metadata?.ownerReferences ?? [])
    .filter((r) => r.kind === kind)
    .sort((a, b) => Number(!!b.controller) - Number(!!a.controller))
    .map((r) => r.name);
}
