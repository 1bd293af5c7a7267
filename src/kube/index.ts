/**
 * paved's controller runtime: the small library every reconciler is built on.
 *
 * Data flows one way: informer event -> key mapper -> work queue -> reconcile(key) -> apply / status.
 *
 * Typical wiring (see docs/controller-runtime.md for the full walk-through):
 * ```ts
 * const clients = KubeClients.fromKubeConfig(kc);                  // counted, keep-alive, field manager `paved`
 * const informers = createInformerFactory({ clients, resyncPeriodMs });   // ONE per process, shared
 * const teams = informers.informer<Team>({ apiVersion: 'paved.dev/v1alpha1', kind: 'Team', resync: true });
 * const namespaces = informers.informer<V1Namespace>({ apiVersion: 'v1', kind: 'Namespace',
 *   labelSelector: 'paved.dev/team' });
 * const ctrl = createController({ name: 'team', workers: 4, logger,
 *   reconcile: async (key, ctx) => { ...; return { requeueAfter: 30_000 }; } });
 * ctrl.watch(teams);                                               // own objects -> own key
 * ctrl.watch(namespaces, mapToLabel('paved.dev/team'));            // children -> owner key
 * const manager = createManager({ logger, clients, leaderElection: { namespace, name: 'paved', identity } });
 * manager.addInformer(...informers.informers()); manager.addController(ctrl);
 * await manager.start();   // informers sync; controllers run only while this replica leads
 * ...; await manager.stop(); // stop controllers (drain), stop informers, release the lease
 * ```
 *
 * Writes always go through this module: `applyObject` (server-side apply, manager `paved`, skipped when
 * the live object already matches), `writeStatus` (status subresource, only when changed),
 * `addFinalizer`/`removeFinalizer` (JSON patch with a `test` op), `EventRecorder` (on transitions).
 * Every HTTP request is counted by verb and resource in `clients.counter` (and in Prometheus).
 */

// Keys and time
export { objectKey, keyOf, splitKey, type ObjectKey, type ObjectRefLike } from './keys.js';
export { MAX_TIMER_DELAY_MS, capTimerDelay, systemClock, FakeClock, type Clock, type TimerHandle } from './clock.js';

// Errors of the API server, mapped by status code
export {
  KubeApiError,
  toKubeApiError,
  isNotFound,
  isConflict,
  isAlreadyExists,
  isForbidden,
  isGone,
  isInvalid,
} from './api-errors.js';

// Clients, impersonation and the API-call counter
export {
  KubeClients,
  FIELD_MANAGER,
  FieldManagers,
  type KubeClientsOptions,
  type KubeRequest,
  type ResourceInfo,
  type ObjectRef,
  type ListOptions,
} from './client.js';
export {
  IdentityCache,
  ImpersonatingKubeConfig,
  httpLibraryFor,
  identityKey,
  impersonatingKubeConfig,
  impersonationHeaders,
  kubeHttpLibrary,
  normalizeIdentity,
  serviceAccountUser,
  type Identity,
  type IdentityCacheOptions,
} from './identity.js';
export {
  AUTHENTICATED_GROUP,
  forbiddenError,
  forbiddenMessage,
  reviewAccess,
  type AccessDecision,
  type ResourceRequest,
} from './access-review.js';
export {
  ApiCallCounter,
  classifyRequest,
  WRITE_VERBS,
  type ApiVerb,
  type ApiCall,
} from './api-counter.js';

// Label selectors (pure)
export {
  parseLabelSelector,
  matchesLabelSelector,
  formatLabelSelector,
  type LabelRequirement,
  type LabelSelectorInput,
} from './labels.js';

// Informers (list+watch caches)
export {
  Informer,
  createInformer,
  type InformerOptions,
  type InformerEvent,
  type InformerHandler,
  type Indexers,
  stripForCache,
  LAST_APPLIED_ANNOTATION,
} from './informer.js';
export {
  InformerFactory,
  cacheTransformFor,
  createInformerFactory,
  informerScopeKey,
  type InformerScope,
  type InformerRequest,
  type InformerFactoryOptions,
} from './informer-factory.js';

// Work queue, backoff and rate limiting
export { backoffDelay, TokenBucket, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export { WorkQueue, type WorkQueueOptions } from './work-queue.js';

// Controller harness and key mappers
export {
  createController,
  mapToSelf,
  mapToOwner,
  mapToLabel,
  type Controller,
  type ControllerOptions,
  type Reconciler,
  type ReconcileContext,
  type ReconcileResult,
  type KeyMapper,
  type ReconcileOutcome,
} from './controller.js';

// Writes
export {
  applyObject,
  hashIntent,
  isSubset,
  APPLIED_HASH_ANNOTATION,
  type ApplyOptions,
  type ApplyResult,
} from './apply.js';
export { writeStatus, statusEqual, createMergePatch, type WriteStatusResult } from './status.js';
export { hasFinalizer, isDeleting, addFinalizer, removeFinalizer } from './finalizers.js';
export { controllerOwnerRef, withOwner, isOwnedBy, ownerKeys, type OwnerLike } from './owner-refs.js';
export { EventRecorder, type EventInput, type EventType, type EventRecorderOptions } from './events.js';

// Conditions and reasons
export {
  setCondition,
  getCondition,
  isConditionTrue,
  conditionTransitions,
  readyCondition,
  progressingCondition,
  degradedCondition,
  ConditionType,
  type Condition,
  type ConditionInput,
  type ConditionStatus,
  type ConditionTransition,
} from './conditions.js';
export { Reasons, type Reason } from './reasons.js';

// Leader election, manager, metrics
export { LeaderElector, type LeaderElectorOptions, type LeaseRecord } from './leader-election.js';
export { createManager, type Manager, type ManagerOptions, type RunnableInformer } from './manager.js';
export { metricsRegistry, kubeMetrics } from './metrics.js';
