/**
 * The Team reconciler: Team -> namespaces with quota, limits, network policies and RBAC.
 *
 * Fixed order, the key (a Team name) as the only input:
 *   get -> gone (orphan handling) -> deleting (finalize) -> ensure finalizer -> observe -> plan
 *   -> apply -> status.
 *
 * Who writes what (docs/tenancy.md, "The write boundary"):
 * - the controller's own identity writes the Team (finalizer, status), Namespaces (create, label, delete)
 *   and, in each namespace, the `paved-deployer` ServiceAccount, Role and RoleBinding (the bootstrap);
 * - every other object in a team namespace is written while impersonating
 *   `system:serviceaccount:<namespace>:paved-deployer`, so those writes cannot leave the namespace.
 *
 * Writes are skipped when the cached object already carries this exact intent (see kube/apply.ts), so
 * a steady-state pass writes nothing. Status is written only when it changed; Events only on condition
 * transitions.
 */
import type { KubernetesObject, V1Namespace } from '@kubernetes/client-node';
import { Labels, PAVED_API_VERSION, type Team } from '../api/index.js';
import { InvalidSpecError, PavedError, describeError } from '../errors.js';
import {
  APPLIED_HASH_ANNOTATION,
  Reasons,
  addFinalizer,
  degradedCondition,
  readyCondition,
  setCondition,
  applyObject,
  hasFinalizer,
  FieldManagers,
  hashIntent,
  isDeleting,
  isForbidden,
  isSubset,
  keyOf,
  removeFinalizer,
  serviceAccountUser,
  toKubeApiError,
  writeStatus,
  type EventRecorder,
  type Informer,
  type KubeClients,
  type ReconcileContext,
  type ReconcileResult,
  type Reconciler,
} from '../kube/index.js';
import {
  assessTeamStatus,
  decideOrphan,
  isManagedNamespace,
  planTenancy,
  releasedNamespace,
  type NamespaceOutcome,
  type TenancyPlan,
} from './plan.js';
import { TenancyNames, renderTenancy, type TenancyPlatformConfig, type TenantNamespace } from './render.js';

/** The finalizer that runs the deletion policy before a Team goes away. */
export const TEAM_FINALIZER = 'paved.dev/tenancy';

/** The kinds of namespaced objects tenancy renders, each with its own informer cache. */
export const TENANCY_OBJECT_KINDS = [
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  { apiVersion: 'v1', kind: 'ResourceQuota' },
  { apiVersion: 'v1', kind: 'LimitRange' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
] as const;

/** The caches the reconciler reads (all synced before it runs). */
export interface TenancyCaches {
  teams: Informer<Team>;
  /** Namespaces labelled `paved.dev/team`. */
  namespaces: Informer<V1Namespace>;
  /** Tenancy's namespaced objects by kind (label `paved.dev/component=tenancy`). */
  objects: ReadonlyMap<string, Informer<KubernetesObject>>;
}

/** What the reconciler needs. */
export interface TenancyDeps {
  /** The controller identity (its impersonating copies share the API-call counter). */
  clients: KubeClients;
  caches: TenancyCaches;
  platform: TenancyPlatformConfig;
  /** How long an orphan namespace is kept before paved deletes it (PAVED_ORPHAN_GRACE_SECONDS). */
  orphanGraceSeconds: number;
  events?: EventRecorder;
  now?: () => Date;
  /**
   * How long after the deployer's RoleBinding was created a 403 from an impersonated write counts as
   * "RBAC not propagated yet" (retry soon) rather than a failure. Default 30 s.
   */
  rbacPropagationMs?: number;
  /** Test hook, called before every write; throwing simulates a crash half-way through. */
  beforeWrite?: (obj: KubernetesObject) => void;
  /**
   * Which Teams this controller handles (default: all). Keys it does not own are ignored, orphans
   * included: a sharding hook, and how tests keep their controllers off each other's Teams.
   */
  ownsTeam?: (name: string) => boolean;
  /** Receives the current orphan namespaces (name -> team) whenever they change (the metric). */
  orphans?: Map<string, string>;
}

/** How soon to look again while namespaces are terminating. */
const SHORT_REQUEUE_MS = 1000;
/** How soon to retry while a new deployer RoleBinding reaches the API server's authorizer (milliseconds, usually). */
const RBAC_REQUEUE_MS = 200;
/**
 * How long after the deployer's RoleBinding was created a refused read as the deployer means "not yet
 * propagated" (the Team is requeued after RBAC_REQUEUE_MS, no worker waits); after it, writes are tried.
 */
const AUTHORITY_WAIT_MS = 2_000;

/** What every step of a Team's reconcile shares: the deps, the clock, the deployer clients and the caches. */
interface TenancyRuntime {
  deps: TenancyDeps;
  now: () => Date;
  deployerFor(namespace: string): KubeClients;
  forgetDeployer(namespace: string): void;
  cached(obj: KubernetesObject): KubernetesObject | undefined;
  /** Applies one object unless the cache shows it already carries this intent. Returns the written object, or undefined when skipped. */
  apply(clients: KubeClients, obj: KubernetesObject, current: KubernetesObject | undefined): Promise<KubernetesObject | undefined>;
  forgetOrphans(team: string): void;
}

function createRuntime(deps: TenancyDeps): TenancyRuntime {
  // Impersonating clients are cached by src/kube's identity module (one bounded LRU).
  const deployer = (namespace: string) => serviceAccountUser(namespace, TenancyNames.deployer);
  return {
    deps,
    now: deps.now ?? (() => new Date()),
    deployerFor: (namespace) => deps.clients.impersonate(deployer(namespace)),
    forgetDeployer: (namespace) => deps.clients.forgetImpersonation(deployer(namespace)),
    cached(obj) {
      const name = obj.metadata?.name ?? '';
      if (obj.kind === 'Namespace') return deps.caches.namespaces.get(name);
      return deps.caches.objects.get(obj.kind ?? '')?.get(keyOf(obj.metadata?.namespace, name));
    },
    async apply(clients, obj, current) {
      if (current && current.metadata?.annotations?.[APPLIED_HASH_ANNOTATION] === hashIntent(obj) && isSubset(stripStatus(obj), current)) {
        return undefined;
      }
      deps.beforeWrite?.(obj);
      const result = await applyObject(clients, obj, { current: current ?? null, always: true, fieldManager: FieldManagers.tenancy });
      return result.object;
    },
    forgetOrphans(team) {
      if (!deps.orphans) return;
      for (const [ns, t] of deps.orphans) if (t === team) deps.orphans.delete(ns);
    },
  };
}

/** Creates the Team reconciler. */
export function createTenancyReconciler(deps: TenancyDeps): Reconciler {
  const rt = createRuntime(deps);
  return async function reconcileTeam(key, ctx) {
    if (deps.ownsTeam && !deps.ownsTeam(key)) return undefined;
    // get
    const cachedTeam = deps.caches.teams.get(key);
    // gone
    if (!cachedTeam) return reconcileGone(rt, key, ctx);
    // deleting
    rt.forgetOrphans(key);
    if (isDeleting(cachedTeam)) return finalize(rt, cachedTeam, ctx);
    // ensure finalizer
    let team = cachedTeam;
    if (!hasFinalizer(team, TEAM_FINALIZER)) {
      deps.beforeWrite?.(team);
      team = (await addFinalizer(deps.clients, team, TEAM_FINALIZER)) ?? team;
    }
    // observe
    const desired = await renderOrDegrade(rt, team);
    const observed = await observeNamespaces(rt, desired);
    const owned = deps.caches.namespaces.listByLabels({ [Labels.team]: key });
    // plan
    const plan = planTenancy(team, desired, (n) => observed.get(n), owned);
    // act: removals first (a removed environment), then provisioning, namespaces side by side
    const removing = await applyRemovals(rt, plan, owned);
    const outcomes = await Promise.all(plan.provision.map((ns) => applyNamespace(rt, ns, observed.get(ns.name))));
    // status
    return writeTeamStatus(rt, { key, team, plan, outcomes, removing });
  };
}

/** Where a namespace's writes have got to: the object being written and when the deployer's RoleBinding was created. */
interface NamespaceProgress {
  step?: KubernetesObject;
  bindingCreated?: number;
}

/** Writes the bootstrap (controller identity). Returns whether the deployer's Role or RoleBinding was written now. */
async function applyBootstrap(rt: TenancyRuntime, ns: TenantNamespace, outcome: NamespaceOutcome, progress: NamespaceProgress): Promise<boolean> {
  let rbacWritten = false;
  for (const obj of ns.bootstrap) {
    progress.step = obj;
    const current = obj.kind === 'Namespace' ? outcome.live : rt.cached(obj);
    const written = await rt.apply(rt.deps.clients, obj, current);
    if (written) outcome.writes++;
    const after = written ?? current;
    if (obj.kind === 'Namespace' && after) outcome.live = after;
    if (written && (obj.kind === 'RoleBinding' || obj.kind === 'Role')) rbacWritten = true;
    if (obj.kind === 'RoleBinding' && after?.metadata?.creationTimestamp) {
      progress.bindingCreated = Date.parse(String(after.metadata.creationTimestamp));
    }
  }
  return rbacWritten;
}

/**
 * Right after the deployer's Role or RoleBinding was written (or while the RoleBinding is younger than
 * AUTHORITY_WAIT_MS): one read (never a write) as the deployer. True when it is refused, i.e. the API
 * server's authorizer has not seen the binding yet: the namespace's writes wait for a requeue, instead of
 * each being refused with 403 (a wasted write) or of a worker polling inside the reconcile.
 */
async function awaitingDeployerAuthority(rt: TenancyRuntime, deployer: KubeClients, probe: KubernetesObject, progress: NamespaceProgress, rbacWritten: boolean): Promise<boolean> {
  const young = progress.bindingCreated !== undefined && rt.now().getTime() - progress.bindingCreated < AUTHORITY_WAIT_MS;
  if (!rbacWritten && !young) return false;
  const ref = { apiVersion: probe.apiVersion ?? '', kind: probe.kind ?? '', namespace: probe.metadata?.namespace ?? '', name: probe.metadata?.name ?? '' };
  try {
    await deployer.get(ref);
    return false;
  } catch (err) {
    return isForbidden(err) && young;
  }
}

async function applyNamespace(rt: TenancyRuntime, ns: TenantNamespace, live: V1Namespace | undefined): Promise<NamespaceOutcome> {
  const outcome: NamespaceOutcome = { name: ns.name, environment: ns.environment, writes: 0, ...(live ? { live } : {}) };
  const progress: NamespaceProgress = {};
  try {
    const rbacWritten = await applyBootstrap(rt, ns, outcome, progress);
    const deployer = rt.deployerFor(ns.name);
    const first = ns.objects[0];
    if (first && (await awaitingDeployerAuthority(rt, deployer, first, progress, rbacWritten))) {
      return { ...outcome, pending: 'waiting for the deployer RoleBinding to take effect', awaitingAuthority: true };
    }
    for (const obj of ns.objects) {
      progress.step = obj;
      const written = await rt.apply(deployer, obj, rt.cached(obj));
      if (written) outcome.writes++;
      if (obj.kind === 'ResourceQuota') outcome.quota = written ?? rt.cached(obj);
    }
  } catch (err) {
    Object.assign(outcome, namespaceFailure(rt, ns, progress, err));
  }
  outcome.quota ??= rt.deps.caches.objects.get('ResourceQuota')?.get(keyOf(ns.name, TenancyNames.quota));
  return outcome;
}

/** A failed write in a namespace: "pending" while a fresh deployer RoleBinding propagates, an error otherwise. */
function namespaceFailure(rt: TenancyRuntime, ns: TenantNamespace, { step, bindingCreated }: NamespaceProgress, err: unknown): Pick<NamespaceOutcome, 'pending' | 'error'> {
  const fresh = bindingCreated !== undefined && rt.now().getTime() - bindingCreated < (rt.deps.rbacPropagationMs ?? 30_000);
  if (isForbidden(err) && step && step.kind !== 'Namespace' && !ns.bootstrap.includes(step) && fresh) {
    // The API server's RBAC cache has not seen the deployer's new RoleBinding yet.
    return { pending: 'waiting for the deployer RoleBinding to take effect' };
  }
  const reason = toKubeApiError(err)?.statusCode === 403 ? Reasons.Forbidden : Reasons.ApplyFailed;
  return { error: { reason, message: `${step?.kind}/${step?.metadata?.name}: ${describeError(err)}` } };
}

/** The team is gone: its still-managed namespaces are orphans (marked, then deleted after the grace period). */
async function reconcileGone(rt: TenancyRuntime, name: string, ctx: ReconcileContext): Promise<ReconcileResult> {
  const { deps } = rt;
  const orphans = deps.caches.namespaces
    .listByLabels({ [Labels.team]: name })
    .filter((ns) => isManagedNamespace(ns, name) && !ns.metadata?.deletionTimestamp);
  rt.forgetOrphans(name);
  if (orphans.length === 0) return undefined;
  // The cache may lag behind a Team created a moment ago: a namespace is an orphan only if the API
  // server agrees that its Team does not exist (a read, and only for keys missing from the cache).
  const team = await deps.clients.get<Team>({ apiVersion: PAVED_API_VERSION, kind: 'Team', name });
  if (team) return { requeueAfter: SHORT_REQUEUE_MS };
  let requeueAfter: number | undefined;
  for (const ns of orphans) {
    const next = await handleOrphan(rt, name, ns, ctx);
    if (next !== undefined) requeueAfter = Math.min(requeueAfter ?? Infinity, next);
  }
  return requeueAfter !== undefined ? { requeueAfter } : undefined;
}

/** One orphan namespace: delete it after its grace period, or mark it. Returns when to look again. */
async function handleOrphan(rt: TenancyRuntime, team: string, ns: V1Namespace, ctx: ReconcileContext): Promise<number | undefined> {
  const { deps } = rt;
  const decision = decideOrphan(ns, rt.now().getTime(), deps.orphanGraceSeconds);
  const nsName = ns.metadata?.name ?? '';
  deps.orphans?.set(nsName, team);
  if (decision.action === 'delete') {
    deps.orphans?.delete(nsName);
    ctx.log.info({ namespace: nsName }, 'deleting orphan namespace after its grace period');
    deps.beforeWrite?.(ns);
    await deps.clients.delete({ apiVersion: 'v1', kind: 'Namespace', name: nsName });
    rt.forgetDeployer(nsName);
    return undefined;
  }
  if (decision.action === 'mark') {
    ctx.log.warn({ namespace: nsName, graceSeconds: deps.orphanGraceSeconds }, 'namespace is an orphan: its Team is gone');
    await rt.apply(deps.clients, decision.intent, ns);
  }
  return decision.requeueAfterMs;
}

/** The Team is being deleted: run its deletion policy, then let it go. */
async function finalize(rt: TenancyRuntime, team: Team, ctx: ReconcileContext): Promise<ReconcileResult> {
  const { deps } = rt;
  if (!hasFinalizer(team, TEAM_FINALIZER)) return undefined;
  const name = team.metadata?.name ?? '';
  const owned = deps.caches.namespaces.listByLabels({ [Labels.team]: name }).filter((ns) => isManagedNamespace(ns, name));
  if ((team.spec.deletionPolicy ?? 'Retain') === 'Delete') {
    await deleteNamespaces(rt, owned, ctx);
    // Keep the Team (and its finalizer) until its namespaces are really gone.
    if (owned.length > 0) return { requeueAfter: SHORT_REQUEUE_MS * 2 };
  } else {
    for (const ns of owned) {
      ctx.log.info({ namespace: ns.metadata?.name }, 'releasing namespace (deletionPolicy Retain)');
      await rt.apply(deps.clients, releasedNamespace(ns), ns);
      rt.forgetDeployer(ns.metadata?.name ?? '');
    }
  }
  deps.beforeWrite?.(team);
  await removeFinalizer(deps.clients, team, TEAM_FINALIZER);
  return undefined;
}

async function deleteNamespaces(rt: TenancyRuntime, owned: V1Namespace[], ctx: ReconcileContext): Promise<void> {
  for (const ns of owned) {
    if (ns.metadata?.deletionTimestamp) continue;
    ctx.log.info({ namespace: ns.metadata?.name }, 'deleting namespace (deletionPolicy Delete)');
    rt.deps.beforeWrite?.(ns);
    await rt.deps.clients.delete({ apiVersion: 'v1', kind: 'Namespace', name: ns.metadata?.name ?? '' });
    rt.forgetDeployer(ns.metadata?.name ?? '');
  }
}

/** Renders the Team's namespaces; an invalid spec is written to status (Ready False, Degraded) and thrown. */
async function renderOrDegrade(rt: TenancyRuntime, team: Team): Promise<TenantNamespace[]> {
  try {
    return renderTenancy(team, rt.deps.platform);
  } catch (err) {
    // The CRD schema should make this impossible; if it happens, retrying cannot help.
    const message = `spec: ${describeError(err)}`;
    const now = rt.now();
    let conditions = setCondition(team.status?.conditions, readyCondition(false, Reasons.InvalidSpec, message, team.metadata?.generation), now);
    conditions = setCondition(conditions, degradedCondition(true, Reasons.InvalidSpec, message, team.metadata?.generation), now);
    await writeStatus(rt.deps.clients, team, { ...team.status, conditions });
    throw new InvalidSpecError('spec', describeError(err), { cause: err });
  }
}

/** The live Namespace of each desired one (cache first; a read for names the labelled cache does not hold). */
async function observeNamespaces(rt: TenancyRuntime, desired: TenantNamespace[]): Promise<Map<string, V1Namespace | undefined>> {
  const observed = new Map<string, V1Namespace | undefined>();
  for (const ns of desired) {
    let live = rt.deps.caches.namespaces.get(ns.name);
    // Not in the cache (which only holds labelled namespaces): make sure no one else's namespace is there.
    if (!live) live = await rt.deps.clients.get<V1Namespace>({ apiVersion: 'v1', kind: 'Namespace', name: ns.name });
    observed.set(ns.name, live);
  }
  return observed;
}

/** Deletes or releases the namespaces of removed environments. Returns the namespaces on their way out. */
async function applyRemovals(rt: TenancyRuntime, plan: TenancyPlan, owned: V1Namespace[]): Promise<string[]> {
  const removing: string[] = [...plan.terminating];
  for (const removal of plan.removals) {
    const ns = owned.find((o) => o.metadata?.name === removal.namespace);
    if (!ns) continue;
    removing.push(removal.namespace);
    if (removal.action === 'delete') {
      rt.deps.beforeWrite?.(ns);
      await rt.deps.clients.delete({ apiVersion: 'v1', kind: 'Namespace', name: removal.namespace });
    } else {
      await rt.apply(rt.deps.clients, releasedNamespace(ns), ns);
    }
    rt.forgetDeployer(removal.namespace);
  }
  return removing;
}

/** The one status write (when changed), Events on transitions, then the reconcile's result. */
async function writeTeamStatus(
  rt: TenancyRuntime,
  { key, team, plan, outcomes, removing }: { key: string; team: Team; plan: TenancyPlan; outcomes: NamespaceOutcome[]; removing: string[] },
): Promise<ReconcileResult> {
  // Only waiting for a new RoleBinding to be honoured: look again in a moment and write the status then
  // (one status write for the pass, as when the wait was inside the reconcile).
  if (outcomes.some((o) => o.awaitingAuthority) && !outcomes.some((o) => o.error)) return { requeueAfter: RBAC_REQUEUE_MS };
  const before = team.status?.conditions ?? [];
  const status = assessTeamStatus({ team, plan, outcomes, removing, now: rt.now() });
  const written = await writeStatus(rt.deps.clients, team, status);
  if (written.changed && rt.deps.events) await rt.deps.events.recordConditionTransitions(team, before, status.conditions);
  const failed = outcomes.find((o) => o.error);
  if (failed?.error) {
    throw new TenancyApplyError(`team ${key}: namespace ${failed.name}: ${failed.error.message}`);
  }
  if (outcomes.some((o) => o.pending)) return { requeueAfter: RBAC_REQUEUE_MS };
  return removing.length > 0 ? { requeueAfter: SHORT_REQUEUE_MS } : undefined;
}

/** A tenancy write failed; the Team's Degraded condition names the namespace and object. Retried with backoff. */
export class TenancyApplyError extends PavedError {
  override readonly name = 'TenancyApplyError';
  readonly code = 'TenancyApply';
}

function stripStatus(obj: KubernetesObject): KubernetesObject {
  const { status: _status, ...rest } = obj as KubernetesObject & { status?: unknown };
  return rest;
}
