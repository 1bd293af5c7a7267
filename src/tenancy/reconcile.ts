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
import type { KubernetesObject, V1Namespace, V1ResourceQuota } from '@kubernetes/client-node';
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
  type Condition,
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

/** Creates the Team reconciler. */
export function createTenancyReconciler(deps: TenancyDeps): Reconciler {
  const now = deps.now ?? (() => new Date());
  // Impersonating clients are cached by src/kube's identity module (one bounded LRU).
  const deployerFor = (namespace: string): KubeClients => deps.clients.impersonate(serviceAccountUser(namespace, TenancyNames.deployer));
  const forgetDeployer = (namespace: string): void => deps.clients.forgetImpersonation(serviceAccountUser(namespace, TenancyNames.deployer));

  const cached = (obj: KubernetesObject): KubernetesObject | undefined => {
    const name = obj.metadata?.name ?? '';
    if (obj.kind === 'Namespace') return deps.caches.namespaces.get(name);
    return deps.caches.objects.get(obj.kind ?? '')?.get(keyOf(obj.metadata?.namespace, name));
  };

  /** Applies one object unless the cache shows it already carries this intent. Returns the written object, or undefined when skipped. */
  async function apply(clients: KubeClients, obj: KubernetesObject, current: KubernetesObject | undefined): Promise<KubernetesObject | undefined> {
    if (current && current.metadata?.annotations?.[APPLIED_HASH_ANNOTATION] === hashIntent(obj) && isSubset(stripStatus(obj), current)) {
      return undefined;
    }
    deps.beforeWrite?.(obj);
    const result = await applyObject(clients, obj, { current: current ?? null, always: true, fieldManager: FieldManagers.tenancy });
    return result.object;
  }

  async function applyNamespace(ns: TenantNamespace, live: V1Namespace | undefined): Promise<NamespaceOutcome> {
    const outcome: NamespaceOutcome = {
      name: ns.name,
      environment: ns.environment,
      writes: 0,
      ...(live ? { live } : {}),
    };
    let step: KubernetesObject | undefined;
    let deployerBindingCreated: number | undefined;
    try {
      for (const obj of ns.bootstrap) {
        step = obj;
        const current = obj.kind === 'Namespace' ? live : cached(obj);
        const written = await apply(deps.clients, obj, current);
        if (written) outcome.writes++;
        const after = written ?? current;
        if (obj.kind === 'Namespace' && after) outcome.live = after as V1Namespace;
        if (obj.kind === 'RoleBinding' && after?.metadata?.creationTimestamp) {
          deployerBindingCreated = Date.parse(String(after.metadata.creationTimestamp));
        }
      }
      const deployer = deployerFor(ns.name);
      for (const obj of ns.objects) {
        step = obj;
        const written = await apply(deployer, obj, cached(obj));
        if (written) outcome.writes++;
        if (obj.kind === 'ResourceQuota') outcome.quota = (written ?? cached(obj)) as V1ResourceQuota;
      }
    } catch (err) {
      const fresh = deployerBindingCreated !== undefined && now().getTime() - deployerBindingCreated < (deps.rbacPropagationMs ?? 30_000);
      if (isForbidden(err) && step && step.kind !== 'Namespace' && !ns.bootstrap.includes(step) && fresh) {
        // The API server's RBAC cache has not seen the deployer's new RoleBinding yet.
        outcome.pending = 'waiting for the deployer RoleBinding to take effect';
      } else {
        const apiErr = toKubeApiError(err);
        const reason = apiErr?.statusCode === 403 ? Reasons.Forbidden : Reasons.ApplyFailed;
        outcome.error = { reason, message: `${step?.kind}/${step?.metadata?.name}: ${describeError(err)}` };
      }
    }
    outcome.quota ??= deps.caches.objects.get('ResourceQuota')?.get(keyOf(ns.name, TenancyNames.quota)) as V1ResourceQuota | undefined;
    return outcome;
  }

  /** The team is gone: its still-managed namespaces are orphans (marked, then deleted after the grace period). */
  async function reconcileGone(name: string, ctx: ReconcileContext): Promise<ReconcileResult> {
    const orphans = deps.caches.namespaces
      .listByLabels({ [Labels.team]: name })
      .filter((ns) => isManagedNamespace(ns, name) && !ns.metadata?.deletionTimestamp);
    forgetOrphans(name);
    if (orphans.length === 0) return undefined;
    // The cache may lag behind a Team created a moment ago: a namespace is an orphan only if the API
    // server agrees that its Team does not exist (a read, and only for keys missing from the cache).
    const team = await deps.clients.get<Team>({ apiVersion: PAVED_API_VERSION, kind: 'Team', name });
    if (team) return { requeueAfter: SHORT_REQUEUE_MS };
    let requeueAfter: number | undefined;
    for (const ns of orphans) {
      const decision = decideOrphan(ns, now().getTime(), deps.orphanGraceSeconds);
      const nsName = ns.metadata?.name ?? '';
      deps.orphans?.set(nsName, name);
      if (decision.action === 'delete') {
        deps.orphans?.delete(nsName);
        ctx.log.info({ namespace: nsName }, 'deleting orphan namespace after its grace period');
        deps.beforeWrite?.(ns);
        await deps.clients.delete({ apiVersion: 'v1', kind: 'Namespace', name: nsName });
        forgetDeployer(nsName);
        continue;
      }
      if (decision.action === 'mark') {
        ctx.log.warn({ namespace: nsName, graceSeconds: deps.orphanGraceSeconds }, 'namespace is an orphan: its Team is gone');
        await apply(deps.clients, decision.intent, ns);
      }
      requeueAfter = Math.min(requeueAfter ?? Infinity, decision.requeueAfterMs);
    }
    return requeueAfter !== undefined ? { requeueAfter } : undefined;
  }

  /** The Team is being deleted: run its deletion policy, then let it go. */
  async function finalize(team: Team, ctx: ReconcileContext): Promise<ReconcileResult> {
    if (!hasFinalizer(team, TEAM_FINALIZER)) return undefined;
    const name = team.metadata?.name ?? '';
    const owned = deps.caches.namespaces.listByLabels({ [Labels.team]: name }).filter((ns) => isManagedNamespace(ns, name));
    if ((team.spec.deletionPolicy ?? 'Retain') === 'Delete') {
      for (const ns of owned) {
        if (ns.metadata?.deletionTimestamp) continue;
        ctx.log.info({ namespace: ns.metadata?.name }, 'deleting namespace (deletionPolicy Delete)');
        deps.beforeWrite?.(ns);
        await deps.clients.delete({ apiVersion: 'v1', kind: 'Namespace', name: ns.metadata?.name ?? '' });
        forgetDeployer(ns.metadata?.name ?? '');
      }
      // Keep the Team (and its finalizer) until its namespaces are really gone.
      if (owned.length > 0) return { requeueAfter: SHORT_REQUEUE_MS * 2 };
    } else {
      for (const ns of owned) {
        ctx.log.info({ namespace: ns.metadata?.name }, 'releasing namespace (deletionPolicy Retain)');
        await apply(deps.clients, releasedNamespace(ns), ns);
        forgetDeployer(ns.metadata?.name ?? '');
      }
    }
    deps.beforeWrite?.(team);
    await removeFinalizer(deps.clients, team, TEAM_FINALIZER);
    return undefined;
  }

  const forgetOrphans = (team: string) => {
    if (!deps.orphans) return;
    for (const [ns, t] of deps.orphans) if (t === team) deps.orphans.delete(ns);
  };

  return async function reconcileTeam(key, ctx) {
    if (deps.ownsTeam && !deps.ownsTeam(key)) return undefined;
    // get
    const cachedTeam = deps.caches.teams.get(key);
    // gone
    if (!cachedTeam) return reconcileGone(key, ctx);
    // deleting
    forgetOrphans(key);
    if (isDeleting(cachedTeam)) return finalize(cachedTeam, ctx);
    // ensure finalizer
    let team = cachedTeam;
    if (!hasFinalizer(team, TEAM_FINALIZER)) {
      deps.beforeWrite?.(team);
      team = (await addFinalizer(deps.clients, team, TEAM_FINALIZER)) ?? team;
    }
    // observe
    let desired: TenantNamespace[];
    try {
      desired = renderTenancy(team, deps.platform);
    } catch (err) {
      // The CRD schema should make this impossible; if it happens, retrying cannot help.
      const message = `spec: ${describeError(err)}`;
      let conditions = setCondition(team.status?.conditions as Condition[] | undefined, readyCondition(false, Reasons.InvalidSpec, message, team.metadata?.generation), now());
      conditions = setCondition(conditions, degradedCondition(true, Reasons.InvalidSpec, message, team.metadata?.generation), now());
      await writeStatus(deps.clients, team, { ...team.status, conditions });
      throw new InvalidSpecError('spec', describeError(err), { cause: err });
    }
    const observed = new Map<string, V1Namespace | undefined>();
    for (const ns of desired) {
      let live = deps.caches.namespaces.get(ns.name);
      // Not in the cache (which only holds labelled namespaces): make sure no one else's namespace is there.
      if (!live) live = await deps.clients.get<V1Namespace>({ apiVersion: 'v1', kind: 'Namespace', name: ns.name });
      observed.set(ns.name, live);
    }
    const owned = deps.caches.namespaces.listByLabels({ [Labels.team]: key });
    // plan
    const plan = planTenancy(team, desired, (n) => observed.get(n), owned);
    // act: removals first (a removed environment), then provisioning, namespaces side by side
    const removing: string[] = [...plan.terminating];
    for (const removal of plan.removals) {
      const ns = owned.find((o) => o.metadata?.name === removal.namespace);
      if (!ns) continue;
      removing.push(removal.namespace);
      if (removal.action === 'delete') {
        deps.beforeWrite?.(ns);
        await deps.clients.delete({ apiVersion: 'v1', kind: 'Namespace', name: removal.namespace });
      } else {
        await apply(deps.clients, releasedNamespace(ns), ns);
      }
      forgetDeployer(removal.namespace);
    }
    const outcomes = await Promise.all(plan.provision.map((ns) => applyNamespace(ns, observed.get(ns.name))));
    // status
    const before = (team.status?.conditions ?? []) as Condition[];
    const status = assessTeamStatus({ team, plan, outcomes, removing, now: now() });
    const written = await writeStatus(deps.clients, team, status);
    if (written.changed && deps.events) await deps.events.recordConditionTransitions(team, before, status.conditions as Condition[]);
    const failed = outcomes.find((o) => o.error);
    if (failed?.error) {
      throw new TenancyApplyError(`team ${key}: namespace ${failed.name}: ${failed.error.message}`);
    }
    if (outcomes.some((o) => o.pending)) return { requeueAfter: RBAC_REQUEUE_MS };
    return removing.length > 0 ? { requeueAfter: SHORT_REQUEUE_MS } : undefined;
  };
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
