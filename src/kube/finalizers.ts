/**
 * Finalizers, written with JSON patches that `test` first, so a concurrent change by someone else makes
 * our patch fail (422) instead of silently dropping their finalizer. Removal retries on a stale read.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { isInvalid, isNotFound, isConflict } from './api-errors.js';
import type { KubeClients } from './client.js';

/** True when the object lists the finalizer. */
export function hasFinalizer(obj: KubernetesObject, finalizer: string): boolean {
  return obj.metadata?.finalizers?.includes(finalizer) ?? false;
}

/** True when deletion was requested (deletionTimestamp set). */
export function isDeleting(obj: KubernetesObject): boolean {
  return !!obj.metadata?.deletionTimestamp;
}

type JsonPatchOp = { op: 'add' | 'remove' | 'test'; path: string; value?: unknown };

async function patchJson<T extends KubernetesObject>(clients: KubeClients, obj: T, ops: JsonPatchOp[]): Promise<T> {
  const name = obj.metadata?.name as string;
  const path = await clients.resourcePath({
    apiVersion: obj.apiVersion as string,
    kind: obj.kind as string,
    name,
    ...(obj.metadata?.namespace ? { namespace: obj.metadata.namespace } : {}),
  });
  return clients.request<T>({ method: 'PATCH', path, body: ops, contentType: 'application/json-patch+json' });
}

async function reread<T extends KubernetesObject>(clients: KubeClients, obj: T): Promise<T | undefined> {
  return clients.get<T>({
    apiVersion: obj.apiVersion as string,
    kind: obj.kind as string,
    name: obj.metadata?.name as string,
    ...(obj.metadata?.namespace ? { namespace: obj.metadata.namespace } : {}),
  });
}

/**
 * Adds a finalizer unless present or the object is being deleted (the API server refuses new
 * finalizers then). Returns the updated object, or undefined when nothing was written.
 */
export async function addFinalizer<T extends KubernetesObject>(clients: KubeClients, obj: T, finalizer: string): Promise<T | undefined> {
  let current: T | undefined = obj;
  for (let attempt = 0; attempt < 3 && current; attempt++) {
    if (hasFinalizer(current, finalizer) || isDeleting(current)) return undefined;
    const list = current.metadata?.finalizers;
    const ops: JsonPatchOp[] = list
      ? [
          { op: 'test', path: '/metadata/finalizers', value: list },
          { op: 'add', path: '/metadata/finalizers/-', value: finalizer },
        ]
      : [
          { op: 'test', path: '/metadata/resourceVersion', value: current.metadata?.resourceVersion },
          { op: 'add', path: '/metadata/finalizers', value: [finalizer] },
        ];
    try {
      return await patchJson(clients, current, ops);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      if (!isInvalid(err) && !isConflict(err)) throw err;
      current = await reread(clients, current);
    }
  }
  if (current && !hasFinalizer(current, finalizer)) throw new Error(`could not add finalizer ${finalizer}: object keeps changing`);
  return undefined;
}

/**
 * Removes a finalizer with `[test /metadata/finalizers/i == f, remove /metadata/finalizers/i]`.
 * Returns true when removed, false when absent or the object is gone.
 */
export async function removeFinalizer<T extends KubernetesObject>(clients: KubeClients, obj: T, finalizer: string): Promise<boolean> {
  let current: T | undefined = obj;
  for (let attempt = 0; attempt < 3 && current; attempt++) {
    const i = current.metadata?.finalizers?.indexOf(finalizer) ?? -1;
    if (i < 0) return false;
    try {
      await patchJson(clients, current, [
        { op: 'test', path: `/metadata/finalizers/${i}`, value: finalizer },
        { op: 'remove', path: `/metadata/finalizers/${i}` },
      ]);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      if (!isInvalid(err) && !isConflict(err)) throw err;
      current = await reread(clients, current);
    }
  }
  if (!current) return false;
  throw new Error(`could not remove finalizer ${finalizer}: object keeps changing`);
}
