/**
 * An informer: a list+watch cache of one kind, built on client-node's ListWatch, which re-lists on
 * 410 Gone but *stops* on any other error. This wrapper:
 * - restarts it after any error with jittered exponential backoff (reset by the next successful list
 *   or watch event), resuming from the last resourceVersion when it can;
 * - exposes `hasSynced()` (true once the first list is in the cache) and `waitForSync()`;
 * - emits `resync` for every cached object every `resyncPeriodMs` (a safety net for missed events);
 * - keeps an indexed cache: by key, by namespace, by label selector, and by custom indexers;
 * - strips `metadata.managedFields` and the kubectl last-applied annotation by default (`stripForCache`:
 *   they dominate object size and nothing here reads them);
 * - asks for watch bookmarks and a 5-10 min server-side watch timeout (then resumes from the last
 *   resourceVersion), like client-go's reflector.
 * Objects are raw JSON as the API server sends them (see client.ts).
 */
import { ListWatch, Watch, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import type { KubeClients } from './client.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { keyOf, type ObjectKey } from './keys.js';
import { matchesLabelSelector, type LabelSelectorInput } from './labels.js';
import { kubeMetrics } from './metrics.js';
import { describeError } from '../errors.js';

/** Events an informer emits. `resync` re-delivers every cached object periodically. */
export type InformerEvent = 'add' | 'update' | 'delete' | 'resync';

/** A handler; `old` is the previous cached object on `update`. */
export type InformerHandler<T> = (obj: T, old?: T) => void;

/** Custom indexes: name -> function returning the index values of an object. */
export type Indexers<T> = Record<string, (obj: T) => readonly string[]>;

/** The subset of client-node's Watch the informer uses (injectable in tests). */
interface WatchLike {
  watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController>;
}

/** Options of an informer. */
export interface InformerOptions<T extends KubernetesObject> {
  clients: KubeClients;
  apiVersion: string;
  kind: string;
  /** Watch one namespace only (default: all). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Period of `resync` events; 0 or unset disables. */
  resyncPeriodMs?: number;
  indexers?: Indexers<T>;
  /** Applied to every object before it is cached. Default: `stripForCache`. */
  transform?: (obj: T) => T;
  /** Restart backoff. Default 500 ms doubling to 30 s, +0-50% jitter. */
  backoff?: Partial<BackoffOptions>;
  /** Page size of the initial list. Default 500. */
  pageSize?: number;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
}

/** The kubectl annotation holding the whole last-applied object (as large as the object itself). */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * The transform on the way into every cache: drops `metadata.managedFields` and the kubectl last-applied
 * annotation (in place; the object is fresh from the wire). Nothing in paved reads either, and together
 * they are most of a small object's size, so the caches hold what the reconcilers read.
 */
export function stripForCache<T extends KubernetesObject>(obj: T): T {
  const meta = obj.metadata;
  if (!meta) return obj;
  if (meta.managedFields) delete meta.managedFields;
  if (meta.annotations && LAST_APPLIED_ANNOTATION in meta.annotations) {
    delete meta.annotations[LAST_APPLIED_ANNOTATION];
    if (Object.keys(meta.annotations).length === 0) delete meta.annotations;
  }
  return obj;
}

/** See the module header. Create with `createInformer`. */
export class Informer<T extends KubernetesObject> {
  readonly apiVersion: string;
  readonly kind: string;
  private readonly opts: InformerOptions<T>;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly backoff: BackoffOptions;
  private readonly transform: (obj: T) => T;
  private readonly store = new Map<ObjectKey, T>();
  private readonly byNamespace = new Map<string, Set<ObjectKey>>();
  private readonly indexes = new Map<string, Map<string, Set<ObjectKey>>>();
  private readonly indexers: Indexers<T> = {};
  private readonly handlers: Record<InformerEvent, Set<InformerHandler<T>>> = {
    add: new Set(),
    update: new Set(),
    delete: new Set(),
    resync: new Set(),
  };
  private listWatch?: ListWatch<T>;
  private resource = '';
  private synced = false;
  private listing = false;
  private stopped = true;
  private failures = 0;
  private restartTimer?: TimerHandle;
  private resyncTimer?: TimerHandle;
  private currentDone?: (err: unknown) => void;
  private syncWaiters: Array<() => void> = [];
  private resyncPeriodMs: number;
  /** Restarts after errors since creation (410 re-lists excluded). */
  restarts = 0;

  constructor(opts: InformerOptions<T>) {
    this.opts = opts;
    this.apiVersion = opts.apiVersion;
    this.kind = opts.kind;
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    this.log = (opts.logger ?? pino({ level: 'silent' })).child({ informer: `${opts.kind}.${opts.apiVersion}` });
    this.backoff = { baseDelayMs: 500, maxDelayMs: 30_000, jitter: 0.5, ...opts.backoff };
    this.transform = opts.transform ?? stripForCache;
    this.resyncPeriodMs = opts.resyncPeriodMs ?? 0;
    this.addIndexers(opts.indexers ?? {});
  }

  /**
   * Turns on periodic `resync` (a shared informer: when any consumer asks for it; the shortest period
   * asked for wins). Takes effect at start, or at once when already running without one.
   */
  enableResync(periodMs: number): void {
    if (periodMs <= 0 || (this.resyncPeriodMs > 0 && this.resyncPeriodMs <= periodMs)) return;
    const wasOff = this.resyncPeriodMs <= 0;
    this.resyncPeriodMs = periodMs;
    if (wasOff && !this.stopped && this.resyncTimer === undefined) this.scheduleResync();
  }

  /**
   * Adds indexes (a shared informer gets those of every consumer). Objects already cached are indexed at
   * once. Re-adding a name with the same function is a no-op; a different function under a taken name throws.
   */
  addIndexers(indexers: Indexers<T>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      const existing = this.indexers[name];
      if (existing === fn) continue;
      if (existing) throw new Error(`${this.kind} informer: index ${name} is already defined`);
      this.indexers[name] = fn;
      const index = new Map<string, Set<ObjectKey>>();
      this.indexes.set(name, index);
      for (const [key, obj] of this.store) addToIndex(index, fn(obj), key);
    }
  }

  /** Subscribes to an event; returns an unsubscribe function. */
  on(event: InformerEvent, handler: InformerHandler<T>): () => void {
    this.handlers[event].add(handler);
    return () => this.handlers[event].delete(handler);
  }

  /**
   * Starts list+watch. Resolves after the first attempt (synced or not: errors are retried in the
   * background); use `waitForSync` to wait for the cache.
   */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.scheduleResync();
    await this.begin();
  }

  /** One attempt to (re)start: discovery (first time), then ListWatch; failures go to onError. */
  private async begin(): Promise<void> {
    if (this.stopped) return;
    try {
      if (!this.listWatch) {
        // Discovery can fail (API server not up yet, CRD not installed yet): retried like a watch error.
        const path = await this.resolvePath();
        this.listWatch = new ListWatch<T>(path, this.makeWatch() as unknown as Watch, () => this.listAll(), false, this.opts.labelSelector, this.opts.fieldSelector);
        this.listWatch.on('add', (o) => this.upsert(o));
        this.listWatch.on('update', (o) => this.upsert(o));
        this.listWatch.on('delete', (o) => this.remove(o));
        this.listWatch.on('error', (err) => this.onError(err));
      }
      await this.listWatch.start();
    } catch (err) {
      this.onError(err);
    }
  }

  /** Stops watching and cancels restarts and resyncs. The cache is kept (and stays readable). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer !== undefined) this.clock.clearTimeout(this.restartTimer);
    if (this.resyncTimer !== undefined) this.clock.clearTimeout(this.resyncTimer);
    this.restartTimer = this.resyncTimer = undefined;
    await this.listWatch?.stop();
  }

  /** True once the first full list is in the cache. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves when synced; rejects after `timeoutMs` (real time). */
  waitForSync(timeoutMs = 60_000): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.kind} informer did not sync within ${timeoutMs} ms`)), timeoutMs);
      timer.unref?.();
      this.syncWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The cached object of a key (`ns/name` or `name`). */
  get(key: ObjectKey): T | undefined {
    return this.store.get(key);
  }

  /** The cached object by name and namespace. */
  getByName(name: string, namespace?: string): T | undefined {
    return this.store.get(keyOf(namespace, name));
  }

  /** Cached objects, all or of one namespace. */
  list(namespace?: string): T[] {
    if (namespace === undefined) return [...this.store.values()];
    return [...(this.byNamespace.get(namespace) ?? [])].map((k) => this.store.get(k) as T);
  }

  /** Cached objects whose labels match the selector (optionally in one namespace). */
  listByLabels(selector: LabelSelectorInput, namespace?: string): T[] {
    return this.list(namespace).filter((o) => matchesLabelSelector(o.metadata?.labels, selector));
  }

  /** Cached objects whose indexer `indexName` yields `value`. */
  byIndex(indexName: string, value: string): T[] {
    const index = this.indexes.get(indexName);
    if (!index) throw new Error(`unknown index ${indexName}`);
    return [...(index.get(value) ?? [])].map((k) => this.store.get(k) as T);
  }

  /** All cached keys. */
  keys(): ObjectKey[] {
    return [...this.store.keys()];
  }

  /** Number of cached objects. */
  size(): number {
    return this.store.size;
  }

  /** The resource name (`deployments`, `teams.paved.dev`), known after start. */
  get resourceName(): string {
    return this.resource;
  }

  /** Emits `resync` for every cached object now. */
  resync(): void {
    for (const obj of this.store.values()) this.emit('resync', obj);
  }

  /**
   * Test hook: ends the current watch with `err`, as a network or server failure would. With a 410
   * it re-lists (client-node); with anything else the informer restarts with backoff.
   */
  forceWatchError(err: unknown = Object.assign(new Error('injected watch failure'), { statusCode: 500 })): void {
    this.currentDone?.(err);
  }

  private async resolvePath(): Promise<string> {
    const { clients, apiVersion, kind, namespace } = this.opts;
    const info = await clients.resourceFor(apiVersion, kind);
    this.resource = `${info.plural}${info.group ? `.${info.group}` : ''}`;
    return clients.resourcePath(namespace ? { apiVersion, kind, namespace } : { apiVersion, kind });
  }

  private async listAll(): Promise<KubernetesListObject<T>> {
    const { clients, apiVersion, kind, namespace, labelSelector, fieldSelector } = this.opts;
    const items: T[] = [];
    let cont: string | undefined;
    let last: KubernetesListObject<T> | undefined;
    do {
      last = await clients.list<T>(apiVersion, kind, {
        ...(namespace ? { namespace } : {}),
        ...(labelSelector ? { labelSelector } : {}),
        ...(fieldSelector ? { fieldSelector } : {}),
        limit: this.opts.pageSize ?? 500,
        ...(cont ? { continue: cont } : {}),
      });
      for (const item of last.items) items.push(this.transform(item));
      cont = last.metadata?._continue ?? (last.metadata as { continue?: string } | undefined)?.continue;
    } while (cont);
    this.listing = true;
    this.failures = 0;
    return { ...last, items };
  }

  /** Wraps client-node's Watch: transforms objects, notes sync, counts, and lets tests inject failures. */
  private makeWatch(): WatchLike {
    const inner = new Watch(this.opts.clients.kubeConfig);
    return {
      watch: async (path, query, callback, done) => {
        // ListWatch calls watch() right after it has put a fresh list into its cache.
        if (this.listing) {
          this.listing = false;
          this.markSynced();
        }
        this.opts.clients.counter.record({ verb: 'watch', resource: this.resource, code: 200 });
        let finished = false;
        const doneOnce = (err: unknown): void => {
          if (finished) return;
          finished = true;
          if (this.currentDone === doneOnce) this.currentDone = undefined;
          done(err);
        };
        this.currentDone = doneOnce;
        // Bookmarks keep our resourceVersion fresh (fewer 410 re-lists); a server-side timeout of 5-10 min
        // recycles the connection, so a silently dead watch cannot last (client-node sets no timeout).
        const timeoutSeconds = Math.floor(300 + 300 * this.random());
        return inner.watch(
          path,
          { ...query, allowWatchBookmarks: true, timeoutSeconds },
          (phase, obj, raw) => {
            if (finished) return;
            if (phase !== 'ERROR' && obj) {
              this.failures = 0;
              callback(phase, this.transform(obj as T), raw);
            } else callback(phase, obj, raw);
          },
          doneOnce,
        );
      },
    };
  }

  private markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    kubeMetrics.informerSynced.set({ resource: this.resource }, 1);
    this.log.debug({ objects: this.store.size }, 'informer synced');
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    waiters.forEach((w) => w());
  }

  private onError(err: unknown): void {
    if (this.stopped || this.restartTimer !== undefined) return;
    const delay = backoffDelay(this.failures++, this.backoff, this.random);
    this.restarts++;
    kubeMetrics.informerRestarts.inc({ resource: this.resource });
    this.log.warn({ err: describeError(err), retryInMs: Math.round(delay), failures: this.failures }, 'list/watch failed; restarting');
    this.restartTimer = this.clock.setTimeout(() => {
      this.restartTimer = undefined;
      void this.begin();
    }, delay);
  }

  private scheduleResync(): void {
    const period = this.resyncPeriodMs;
    if (period <= 0 || this.stopped) return;
    this.resyncTimer = this.clock.setTimeout(() => {
      this.resyncTimer = undefined;
      if (this.stopped) return;
      if (this.synced) this.resync();
      this.scheduleResync();
    }, period);
  }

  private upsert(obj: T): void {
    const key = keyOf(obj.metadata?.namespace, obj.metadata?.name ?? '');
    const old = this.store.get(key);
    if (old) this.unindex(key, old);
    this.store.set(key, obj);
    this.index(key, obj);
    this.emit(old ? 'update' : 'add', obj, old);
  }

  private remove(obj: T): void {
    const key = keyOf(obj.metadata?.namespace, obj.metadata?.name ?? '');
    const old = this.store.get(key);
    if (old) this.unindex(key, old);
    this.store.delete(key);
    this.emit('delete', obj, old);
  }

  private index(key: ObjectKey, obj: T): void {
    const ns = obj.metadata?.namespace ?? '';
    let set = this.byNamespace.get(ns);
    if (!set) this.byNamespace.set(ns, (set = new Set()));
    set.add(key);
    for (const [name, fn] of Object.entries(this.indexers)) addToIndex(this.indexes.get(name) as Map<string, Set<ObjectKey>>, fn(obj), key);
  }

  private unindex(key: ObjectKey, obj: T): void {
    const ns = obj.metadata?.namespace ?? '';
    const set = this.byNamespace.get(ns);
    set?.delete(key);
    if (set?.size === 0) this.byNamespace.delete(ns);
    for (const [name, fn] of Object.entries(this.indexers)) {
      const index = this.indexes.get(name) as Map<string, Set<ObjectKey>>;
      for (const value of fn(obj)) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
    }
  }

  private emit(event: InformerEvent, obj: T, old?: T): void {
    for (const h of this.handlers[event]) {
      try {
        h(obj, old);
      } catch (err) {
        this.log.error({ err: describeError(err), event }, 'informer handler threw');
      }
    }
  }
}

function addToIndex(index: Map<string, Set<ObjectKey>>, values: readonly string[], key: ObjectKey): void {
  for (const value of values) {
    let keys = index.get(value);
    if (!keys) index.set(value, (keys = new Set()));
    keys.add(key);
  }
}

/** Creates an informer (not started). */
export function createInformer<T extends KubernetesObject>(opts: InformerOptions<T>): Informer<T> {
  return new Informer<T>(opts);
}
