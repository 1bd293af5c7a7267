/**
 * The shared informer factory: one list+watch per (apiVersion, kind, namespace, label selector, field
 * selector) for the whole process. Every controller and the API server ask the factory instead of
 * creating informers, so a kind two consumers read is listed and watched once, cached once, and the
 * number of watches the process opens is the number of distinct kinds (and scopes) it reads.
 *
 * Consumers add their own indexes (`indexers`) and may ask for a periodic resync (the shortest period
 * asked for wins); event handlers are per consumer (`informer.on`, `controller.watch`). Every object
 * goes through `stripForCache` on its way in (no managedFields, no last-applied annotation), so the
 * cache holds what the reconcilers read. The factory creates informers; the manager starts them
 * (`manager.addInformer(...factory.informers())`), or `start`/`stop` here for tests and benchmarks.
 *
 * Then `cacheTransformFor(kind)` drops what no reader of that kind looks at (the `status` of kinds whose
 * status nothing reads, the pod spec of ReplicaSets, the conditions of Deployments and ReplicaSets),
 * keeps long ConfigMap values as digests (cache-digest.ts), and
 * shares repeated strings between cached objects: memory per WebService is what the reconcilers read,
 * once (issue 18: 10,000 WebServices on one controller).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { digestLongValues } from './cache-digest.js';
import type { KubeClients } from './client.js';
import type { Clock } from './clock.js';
import { Informer, stripForCache, type Indexers } from './informer.js';

/** What identifies one list+watch. */
export interface InformerScope {
  apiVersion: string;
  kind: string;
  /** One namespace only (default: all). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** A consumer's request: the scope, its indexes, whether it wants periodic resyncs. */
export interface InformerRequest<T extends KubernetesObject> extends InformerScope {
  indexers?: Indexers<T>;
  /** Ask for `resync` events every `resyncPeriodMs` of the factory (primary kinds of a controller). */
  resync?: boolean;
}

/** Options of the factory. */
export interface InformerFactoryOptions {
  clients: KubeClients;
  logger?: Logger;
  /** The period of resyncs for requests with `resync: true`; 0 or unset: none. */
  resyncPeriodMs?: number;
  clock?: Clock;
  /** The transform of a kind's cache (default `cacheTransformFor`; benchmarks compare others). */
  cacheTransform?: (kind: string) => (obj: KubernetesObject) => KubernetesObject;
}

/**
 * Kinds whose `status` nothing in paved reads: the reconcilers compare spec and metadata with their
 * intent, readiness is the Deployment's, quota usage the ResourceQuota's, phases the Namespace's.
 */
const STATUS_UNREAD = new Set([
  'ServiceAccount', 'ConfigMap', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'NetworkPolicy',
  'Ingress', 'HTTPRoute', 'ServiceMonitor', 'Role', 'RoleBinding', 'LimitRange',
]);

/** Longest string shared between cached objects (longer ones are rarely repeated). */
const INTERN_MAX_LENGTH = 512;

/**
 * The one copy of `s` V8 keeps as a property name (its string table is weak: unused entries are
 * collected). JSON.parse gives every object its own copy of "apps/v1", label values, images, reasons.
 */
function intern(s: string): string {
  if (s.length > INTERN_MAX_LENGTH) return s;
  return Object.keys({ [s]: 0 })[0] ?? s;
}

/** Replaces every string in `value` (in place) by its shared copy. */
function internStrings(value: unknown): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v === 'string') value[i] = intern(v);
      else if (v && typeof v === 'object') internStrings(v);
    }
    return;
  }
  if (!value || typeof value !== 'object') return;
  const rec = value as Record<string, unknown>;
  for (const k of Object.keys(rec)) {
    const v = rec[k];
    if (typeof v === 'string') rec[k] = intern(v);
    else if (v && typeof v === 'object') internStrings(v);
  }
}

/** Drops (in place) the parts of a `kind` no reader looks at (see STATUS_UNREAD). */
function pruneUnread(
  kind: string,
  obj: KubernetesObject & { spec?: { template?: { metadata?: unknown } }; status?: { conditions?: unknown }; data?: Record<string, unknown>; binaryData?: Record<string, unknown> },
): void {
  if (STATUS_UNREAD.has(kind)) delete obj.status;
  if (kind === 'ConfigMap') {
    digestLongValues(obj.data);
    digestLongValues(obj.binaryData);
  }
  if (kind === 'Deployment' || kind === 'ReplicaSet') delete obj.status?.conditions;
  // A ReplicaSet is read for its owner, its revision annotation and its ready pods, never its pod spec.
  if (kind === 'ReplicaSet' && obj.spec?.template) obj.spec.template = { metadata: obj.spec.template.metadata };
}

/** The transform on the way into a kind's cache: stripForCache, pruneUnread, shared strings. */
export function cacheTransformFor(kind: string): (obj: KubernetesObject) => KubernetesObject {
  return (obj) => {
    stripForCache(obj);
    pruneUnread(kind, obj);
    internStrings(obj);
    return obj;
  };
}

/** The cache key of a scope (pure): the same scope always gives the same key. */
export function informerScopeKey(s: InformerScope): string {
  return [s.apiVersion, s.kind, s.namespace ?? '', s.labelSelector ?? '', s.fieldSelector ?? ''].join('|');
}

/** See the module header. */
export class InformerFactory {
  private readonly byScope = new Map<string, Informer<KubernetesObject>>();

  constructor(private readonly opts: InformerFactoryOptions) {}

  /** The process's informer of a scope: created on first request, shared afterwards. */
  informer<T extends KubernetesObject>(req: InformerRequest<T>): Informer<T> {
    const key = informerScopeKey(req);
    let inf = this.byScope.get(key) as Informer<T> | undefined;
    if (!inf) {
      inf = new Informer<T>({
        clients: this.opts.clients,
        apiVersion: req.apiVersion,
        kind: req.kind,
        ...(req.namespace ? { namespace: req.namespace } : {}),
        ...(req.labelSelector ? { labelSelector: req.labelSelector } : {}),
        ...(req.fieldSelector ? { fieldSelector: req.fieldSelector } : {}),
        ...(this.opts.logger ? { logger: this.opts.logger } : {}),
        ...(this.opts.clock ? { clock: this.opts.clock } : {}),
        transform: (this.opts.cacheTransform ?? cacheTransformFor)(req.kind) as unknown as (obj: T) => T,
      });
      this.byScope.set(key, inf as unknown as Informer<KubernetesObject>);
    }
    if (req.indexers) inf.addIndexers(req.indexers);
    if (req.resync && this.opts.resyncPeriodMs) inf.enableResync(this.opts.resyncPeriodMs);
    return inf;
  }

  /** Every informer created so far (one per scope). */
  informers(): Array<Informer<KubernetesObject>> {
    return [...this.byScope.values()];
  }

  /** The scopes created so far: one list+watch each. */
  scopes(): string[] {
    return [...this.byScope.keys()];
  }

  /** Starts every informer and waits for their caches (tests, benchmarks; main.ts uses the manager). */
  async start(timeoutMs = 60_000): Promise<void> {
    const all = this.informers();
    await Promise.all(all.map((i) => i.start()));
    await Promise.all(all.map((i) => i.waitForSync(timeoutMs)));
  }

  /** Stops every informer. */
  async stop(): Promise<void> {
    await Promise.all(this.informers().map((i) => i.stop()));
  }
}

/** Creates a factory. */
export function createInformerFactory(opts: InformerFactoryOptions): InformerFactory {
  return new InformerFactory(opts);
}
