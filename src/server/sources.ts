/**
 * What the server reads: the same informer caches the controllers use (src/kube `Informer`), behind the
 * smallest interface that Informer already satisfies, so main.ts passes informers straight in. The
 * server never lists from the API server on a request path and never calls a reconciler: it reads
 * caches and writes resources.
 */
import type { KubernetesObject } from '@kubernetes/client-node';

/** Informer event names the server listens to (a subset of src/kube's `InformerEvent`). */
export type CacheEvent = 'add' | 'update' | 'delete';

/** A read-only, watchable informer cache (structurally src/kube's `Informer<T>`). */
export interface WatchedCache<T extends KubernetesObject = KubernetesObject> {
  getByName(name: string, namespace?: string): T | undefined;
  list(namespace?: string): T[];
  /** Subscribes; returns an unsubscribe function. */
  on(event: CacheEvent, handler: (obj: T, old?: T) => void): () => void;
  hasSynced(): boolean;
}

/** The caches the server reads. Deployments and HTTPRoutes are optional: without them reality lacks pods/weights. */
export interface ServerSources {
  /** paved.dev Teams (cluster-scoped). */
  readonly teams: WatchedCache;
  /**
   * Namespaces labelled `paved.dev/team` (the tenancy controller's informer): who owns a namespace is
   * read from these alone (teams.ts).
   */
  readonly namespaces: WatchedCache;
  /** paved.dev WebServices (namespaced). */
  readonly webServices: WatchedCache;
  /** apps/v1 Deployments labelled `paved.dev/service` (stable and canary tracks). */
  readonly deployments?: WatchedCache;
  /** gateway.networking.k8s.io HTTPRoutes labelled `paved.dev/service`. */
  readonly httpRoutes?: WatchedCache;
}

/** True once every configured cache has completed its first list. */
export function sourcesSynced(sources: ServerSources): boolean {
  return [sources.teams, sources.namespaces, sources.webServices, sources.deployments, sources.httpRoutes].every(
    (c) => c === undefined || c.hasSynced(),
  );
}

/**
 * A tiny in-memory cache with the same surface, for unit tests and benches. Emits events synchronously,
 * like an informer delivering a watch event.
 */
export class MemoryCache<T extends KubernetesObject = KubernetesObject> implements WatchedCache<T> {
  private readonly items = new Map<string, T>();
  private readonly handlers: Record<CacheEvent, Set<(obj: T, old?: T) => void>> = {
    add: new Set(),
    update: new Set(),
    delete: new Set(),
  };
  synced = true;

  private static key(name: string, namespace?: string): string {
    return namespace ? `${namespace}/${name}` : name;
  }

  getByName(name: string, namespace?: string): T | undefined {
    return this.items.get(MemoryCache.key(name, namespace));
  }

  list(namespace?: string): T[] {
    const all = [...this.items.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Adds or replaces an object and emits `add` or `update`. */
  upsert(obj: T): void {
    const key = MemoryCache.key(obj.metadata?.name ?? '', obj.metadata?.namespace);
    const old = this.items.get(key);
    this.items.set(key, obj);
    for (const h of this.handlers[old ? 'update' : 'add']) h(obj, old);
  }

  /** Removes an object and emits `delete`. */
  remove(name: string, namespace?: string): void {
    const key = MemoryCache.key(name, namespace);
    const obj = this.items.get(key);
    if (!obj) return;
    this.items.delete(key);
    for (const h of this.handlers.delete) h(obj);
  }

  on(event: CacheEvent, handler: (obj: T, old?: T) => void): () => void {
    this.handlers[event].add(handler);
    return () => this.handlers[event].delete(handler);
  }
}
