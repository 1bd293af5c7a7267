/**
 * The controller harness: informer events -> key mappers -> work queue -> bounded workers (p-queue)
 * -> `reconcile(key, ctx)`. The reconcile is level-triggered: it gets only the key and must read the
 * world (caches) itself. Outcomes:
 * - resolved with `{ requeueAfter }` -> backoff reset, key scheduled again (waiting on time is a requeue,
 *   never a timer holding state);
 * - resolved otherwise -> success, backoff reset;
 * - NotFound (404) -> the object is gone: forget;
 * - TerminalError / InvalidSpecError / PolicyViolationError -> retrying cannot help: forget and log;
 * - any other error or exception (including synchronous throws) -> rate-limited requeue.
 * Each reconcile gets a child logger `{controller, namespace, name, reconcileId}` and ends with exactly
 * one closing line carrying duration and result.
 */
import { randomUUID } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import PQueue from 'p-queue';
import { pino, type Logger } from 'pino';
import { InvalidSpecError, PolicyViolationError, TerminalError, describeError } from '../errors.js';
import { isConflict, isNotFound } from './api-errors.js';
import type { Informer } from './informer.js';
import { keyOf, objectKey, splitKey, type ObjectKey } from './keys.js';
import { kubeMetrics } from './metrics.js';
import { WorkQueue, type WorkQueueOptions } from './work-queue.js';

/** What a reconcile receives besides its key. */
export interface ReconcileContext {
  controller: string;
  key: ObjectKey;
  /** Undefined for cluster-scoped objects. */
  namespace?: string;
  name: string;
  /** Unique per reconcile; on every log line. */
  reconcileId: string;
  /** Child logger with {controller, namespace, name, reconcileId}. */
  log: Logger;
  /** Failures of this key since its last success (0 on a first try). */
  retries: number;
  /** Aborted when the controller is stopping and its drain time is over. */
  signal: AbortSignal;
}

/** A reconcile's result: nothing, or a request to run again after `requeueAfter` ms. */
export type ReconcileResult = { requeueAfter?: number } | void | undefined;

/** A reconcile function: idempotent, level-triggered. */
export type Reconciler = (key: ObjectKey, ctx: ReconcileContext) => Promise<ReconcileResult>;

/** How one reconcile ended (the `result` label of paved_reconcile_total). */
export type ReconcileOutcome = 'success' | 'requeue' | 'error' | 'terminal' | 'notfound';

/** Maps an object to the keys of the objects to reconcile (itself, its owner, ...). */
export type KeyMapper<T> = (obj: T) => readonly ObjectKey[];

/** Options of createController. */
export interface ControllerOptions {
  name: string;
  reconcile: Reconciler;
  /** Concurrent reconciles (different keys). Default 4. */
  workers?: number;
  logger?: Logger;
  queue?: Omit<WorkQueueOptions, 'name'>;
  /** Called after each reconcile (tests, benchmarks). */
  onOutcome?: (key: ObjectKey, outcome: ReconcileOutcome, err?: unknown) => void;
}

/** A running (or startable) controller. */
export interface Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  /** Enqueues `mapper(obj)` (default: the object's own key) on add, update (old and new), delete and resync. */
  watch<T extends KubernetesObject>(informer: Informer<T>, mapper?: KeyMapper<T>): void;
  /** Enqueues a key directly. */
  enqueue(key: ObjectKey): void;
  /** Starts the workers (keys enqueued before are kept). Idempotent. */
  start(): void;
  /**
   * Stops: the queue shuts down, in-flight reconciles get up to `drainTimeoutMs` (default 10 s) to
   * finish, then their signal is aborted. Resolves true when everything finished in time.
   */
  stop(opts?: { drainTimeoutMs?: number }): Promise<boolean>;
  readonly running: boolean;
}

/** The object's own key. */
export const mapToSelf: KeyMapper<KubernetesObject> = (obj) => [objectKey(obj)];

/**
 * Keys of the object's owners of a kind (from ownerReferences). Owners are in the object's namespace,
 * unless `clusterScoped` (e.g. a Team owning namespaced children).
 */
export function mapToOwner(opts: { kind: string; apiVersion?: string; clusterScoped?: boolean }): KeyMapper<KubernetesObject> {
  const group = opts.apiVersion?.split('/').slice(0, -1).join('/');
  return (obj) =>
    (obj.metadata?.ownerReferences ?? [])
      .filter((r) => r.kind === opts.kind && (group === undefined || r.apiVersion.split('/').slice(0, -1).join('/') === group))
      .map((r) => keyOf(opts.clusterScoped ? undefined : obj.metadata?.namespace, r.name));
}

/**
 * The key named by a label (for children tracked by label: cluster-scoped or cross-namespace ones).
 * By default the owner is cluster-scoped (key = label value); with `namespaced`, it is in the object's namespace.
 */
export function mapToLabel(label: string, opts: { namespaced?: boolean } = {}): KeyMapper<KubernetesObject> {
  return (obj) => {
    const value = obj.metadata?.labels?.[label];
    if (!value) return [];
    return [keyOf(opts.namespaced ? obj.metadata?.namespace : undefined, value)];
  };
}

function isTerminal(err: unknown): boolean {
  return err instanceof TerminalError || err instanceof InvalidSpecError || err instanceof PolicyViolationError;
}

/**
 * A failed reconcile: not found and terminal errors are forgotten, any other error is retried with the
 * queue's rate limit. Adds the error (and the retry) to the closing log line; returns the outcome.
 */
function settleFailure(queue: WorkQueue, key: ObjectKey, err: unknown, retries: number, closing: Record<string, unknown>): ReconcileOutcome {
  closing.err = describeError(err);
  if (err instanceof Error && err.name) closing.errName = err.name;
  if (isNotFound(err) || isTerminal(err)) {
    queue.forget(key);
    return isNotFound(err) ? 'notfound' : 'terminal';
  }
  closing.retryInMs = Math.round(queue.addRateLimited(key));
  closing.retries = retries + 1;
  return 'error';
}

/** The metrics and the closing log line of one reconcile. */
function recordOutcome(
  controller: string,
  log: Logger,
  outcome: ReconcileOutcome,
  failure: unknown,
  elapsedMs: number,
  closing: Record<string, unknown>,
): void {
  kubeMetrics.reconcileTotal.inc({ controller, result: outcome });
  if (outcome === 'error' || outcome === 'terminal') kubeMetrics.reconcileErrors.inc({ controller });
  const durationMs = Math.round(elapsedMs * 10) / 10;
  // A 409 is optimistic concurrency between paved's own writers (or a stale cache): retried, not a fault.
  const conflict = outcome === 'error' && isConflict(failure);
  if (conflict) closing.conflict = true;
  const level = conflict ? 'info' : outcome === 'error' || outcome === 'terminal' ? 'error' : 'info';
  log[level]({ durationMs, result: outcome, ...closing }, 'reconcile finished');
}

/** Enqueues the keys an informer event maps to (of the old object too, on update). */
function enqueueOnEvents<T extends KubernetesObject>(queue: WorkQueue, informer: Informer<T>, map: KeyMapper<KubernetesObject>): void {
  const enqueueAll = (obj: KubernetesObject, old?: KubernetesObject): void => {
    const keys = new Set(map(obj));
    if (old) for (const k of map(old)) keys.add(k);
    for (const k of keys) queue.add(k);
  };
  informer.on('add', enqueueAll);
  informer.on('update', enqueueAll);
  informer.on('delete', enqueueAll);
  informer.on('resync', enqueueAll);
}

/** Calls the `onOutcome` hook; a test hook must not break the worker. */
function notifyOutcome(opts: ControllerOptions, key: ObjectKey, outcome: ReconcileOutcome, failure: unknown): void {
  try {
    opts.onOutcome?.(key, outcome, failure);
  } catch {
    // ignored, see above
  }
}

/** Creates a controller; see the module header. */
export function createController(opts: ControllerOptions): Controller {
  const workers = Math.max(1, opts.workers ?? 4);
  const queue = new WorkQueue({ ...opts.queue, name: opts.name });
  // Exported at 0 from the start, so "no errors" reads as 0 rather than as no data (as controller-runtime does).
  kubeMetrics.reconcileErrors.inc({ controller: opts.name }, 0);
  const baseLog = (opts.logger ?? pino({ level: 'silent' })).child({ controller: opts.name });
  const pq = new PQueue({ concurrency: workers });
  const abort = new AbortController();
  let started = false;
  let loop: Promise<void> | undefined;

  async function process(key: ObjectKey): Promise<void> {
    const { namespace, name } = splitKey(key);
    const reconcileId = randomUUID();
    const log = baseLog.child({ namespace, name, reconcileId });
    const retries = queue.numRequeues(key);
    const startedAt = performance.now();
    const end = kubeMetrics.reconcileDuration.startTimer({ controller: opts.name });
    let outcome: ReconcileOutcome = 'success';
    let failure: unknown;
    const closing: Record<string, unknown> = {};
    try {
      const ctx: ReconcileContext = { controller: opts.name, key, ...(namespace !== undefined ? { namespace } : {}), name, reconcileId, log, retries, signal: abort.signal };
      // Promise.resolve().then() turns a synchronous throw into a rejection (exception recovery).
      const result = await Promise.resolve().then(() => opts.reconcile(key, ctx));
      queue.forget(key);
      if (result && typeof result.requeueAfter === 'number' && result.requeueAfter > 0) {
        outcome = 'requeue';
        closing.requeueAfterMs = result.requeueAfter;
        queue.addAfter(key, result.requeueAfter);
      }
    } catch (err) {
      failure = err;
      outcome = settleFailure(queue, key, err, retries, closing);
    } finally {
      queue.done(key);
      end();
    }
    recordOutcome(opts.name, log, outcome, failure, performance.now() - startedAt, closing);
    notifyOutcome(opts, key, outcome, failure);
  }

  async function dispatch(): Promise<void> {
    for (;;) {
      while (pq.pending + pq.size >= workers) await new Promise<void>((r) => pq.once('next', () => r()));
      const key = await queue.get();
      if (key === undefined) return;
      void pq.add(() => process(key));
    }
  }

  const controller: Controller = {
    name: opts.name,
    queue,
    watch(informer, mapper) {
      enqueueOnEvents(queue, informer, (mapper ?? mapToSelf) as KeyMapper<KubernetesObject>);
    },
    enqueue(key) {
      queue.add(key);
    },
    start() {
      if (started) return;
      started = true;
      baseLog.info({ workers }, 'controller started');
      loop = dispatch().catch((err: unknown) => baseLog.error({ err: describeError(err) }, 'dispatch loop failed'));
    },
    async stop(stopOpts = {}) {
      queue.shutDown();
      // Not awaiting `loop` first: it can be blocked behind a hung reconcile; drain() is bounded.
      const drained = await queue.drain(stopOpts.drainTimeoutMs ?? 10_000);
      if (!drained) {
        abort.abort();
        baseLog.warn({ inFlight: queue.processingCount() }, 'controller stopped with reconciles still running');
      } else baseLog.info('controller stopped');
      if (drained) await loop;
      started = false;
      return drained;
    },
    get running() {
      return started;
    },
  };
  return controller;
}
