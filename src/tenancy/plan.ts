/**
 * Tenancy decisions (pure): given a Team, what was rendered for it and what the caches show, decide
 * which namespaces can be provisioned, which conflict with someone else's namespace, which of the
 * team's namespaces are no longer wanted (and what the deletion policy says to do with them), and
 * what to do with an orphan namespace. Also assembles the Team status. No I/O, no clock (time is an
 * argument).
 */
import type { V1Namespace, V1ResourceQuota } from '@kubernetes/client-node';
import { Labels, type Team, type TeamNamespaceStatus, type TeamStatus } from '../api/index.js';
import {
  ConditionType,
  Reasons,
  degradedCondition,
  progressingCondition,
  readyCondition,
  setCondition,
  type Condition,
} from '../kube/index.js';
import { isManagedNamespace } from './namespaces.js';
import type { TenantNamespace } from './render.js';

/** Annotation recording when paved first saw a namespace as an orphan (RFC 3339). */
export const ORPHANED_AT_ANNOTATION = 'paved.dev/orphaned-at';
/** Annotation on a namespace released by a Team with deletionPolicy Retain. */
export const RETAINED_ANNOTATION = 'paved.dev/retained';

export { isManagedNamespace } from './namespaces.js';

/** Why a desired namespace cannot be provisioned (someone else has it). */
export interface NamespaceConflict {
  namespace: string;
  message: string;
}

/** What to do with a namespace the team no longer lists. */
export interface NamespaceRemoval {
  namespace: string;
  action: 'delete' | 'release';
}

/** The outcome of planning one Team. */
export interface TenancyPlan {
  /** Namespaces to apply, in render order. */
  provision: TenantNamespace[];
  /** Namespaces we must not touch, and why. */
  conflicts: NamespaceConflict[];
  /** The team's managed namespaces it no longer lists. */
  removals: NamespaceRemoval[];
  /** Desired namespaces that are still terminating (from an earlier removal): wait for them. */
  terminating: string[];
}

/**
 * Plans a Team. `observed(name)` is the live namespace (undefined when absent); `owned` lists the
 * namespaces carrying this team's label (managed or retained).
 */
export function planTenancy(
  team: Team,
  desired: readonly TenantNamespace[],
  observed: (namespace: string) => V1Namespace | undefined,
  owned: readonly V1Namespace[],
): TenancyPlan {
  const teamName = team.metadata?.name ?? '';
  const plan: TenancyPlan = { provision: [], conflicts: [], removals: [], terminating: [] };
  for (const ns of desired) placeNamespace(plan, ns, observed(ns.name), teamName);
  const wanted = new Set(desired.map((d) => d.name));
  const action = (team.spec.deletionPolicy ?? 'Retain') === 'Delete' ? 'delete' : 'release';
  for (const ns of owned) {
    const name = ns.metadata?.name ?? '';
    if (wanted.has(name) || !isManagedNamespace(ns, teamName) || ns.metadata?.deletionTimestamp) continue;
    plan.removals.push({ namespace: name, action });
  }
  plan.removals.sort((a, b) => a.namespace.localeCompare(b.namespace));
  return plan;
}

/** One desired namespace: a conflict (someone else's), terminating (wait), or to provision. */
function placeNamespace(plan: TenancyPlan, ns: TenantNamespace, live: V1Namespace | undefined, teamName: string): void {
  const liveTeam = live?.metadata?.labels?.[Labels.team];
  if (live && liveTeam !== teamName) {
    plan.conflicts.push({
      namespace: ns.name,
      message: liveTeam
        ? `namespace ${ns.name} already belongs to team ${liveTeam}`
        : `namespace ${ns.name} already exists and is not managed by paved`,
    });
  } else if (live?.status?.phase === 'Terminating' || live?.metadata?.deletionTimestamp) {
    plan.terminating.push(ns.name);
  } else {
    plan.provision.push(ns);
  }
}

/**
 * The Namespace intent that releases a namespace (deletionPolicy Retain): the attribution labels stay
 * (cost history keeps working), `managed-by` goes, so paved no longer manages it nor counts it as an
 * orphan. Applied with paved's field manager, it drops exactly the fields paved no longer claims.
 */
export function releasedNamespace(ns: V1Namespace): V1Namespace {
  const labels = ns.metadata?.labels ?? {};
  const keep: Record<string, string> = {};
  for (const key of [Labels.team, Labels.costCenter, Labels.environment]) {
    const value = labels[key];
    if (value !== undefined) keep[key] = value;
  }
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: ns.metadata?.name ?? '', labels: keep, annotations: { [RETAINED_ANNOTATION]: 'true' } },
  };
}

/** What to do now with an orphan namespace (managed by paved, its Team gone). */
export type OrphanDecision =
  | { action: 'mark'; intent: V1Namespace; requeueAfterMs: number }
  | { action: 'wait'; requeueAfterMs: number }
  | { action: 'delete' };

/**
 * Orphans are deleted after `graceSeconds`, counted from the first time paved saw them orphaned
 * (recorded in an annotation, so the clock survives restarts). Marking applies the namespace's own
 * paved labels plus the annotation with paved's field manager: a Team re-created in the meantime
 * re-applies its intent, which drops the annotation again.
 */
export function decideOrphan(ns: V1Namespace, nowMs: number, graceSeconds: number): OrphanDecision {
  const marked = ns.metadata?.annotations?.[ORPHANED_AT_ANNOTATION];
  const since = marked ? Date.parse(marked) : Number.NaN;
  if (Number.isNaN(since)) {
    const labels = ns.metadata?.labels ?? {};
    const keep: Record<string, string> = {};
    for (const key of [Labels.managedBy, Labels.team, Labels.costCenter, Labels.environment]) {
      const value = labels[key];
      if (value !== undefined) keep[key] = value;
    }
    return {
      action: 'mark',
      intent: {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: ns.metadata?.name ?? '',
          labels: keep,
          annotations: { [ORPHANED_AT_ANNOTATION]: new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z') },
        },
      },
      requeueAfterMs: Math.max(1000, graceSeconds * 1000),
    };
  }
  const remaining = since + graceSeconds * 1000 - nowMs;
  if (remaining > 0) return { action: 'wait', requeueAfterMs: Math.max(1000, remaining) };
  return { action: 'delete' };
}

/** What happened while applying one namespace. */
export interface NamespaceOutcome {
  name: string;
  environment: string;
  /** The live namespace after the pass (from the apply or the cache). */
  live?: V1Namespace;
  quota?: V1ResourceQuota;
  /** Objects written in this pass. */
  writes: number;
  /** Set while the namespace waits on something that resolves by itself (e.g. RBAC propagation). */
  pending?: string;
  /**
   * The deployer's RoleBinding was created a moment ago and the API server's authorizer does not honour
   * it yet: nothing was written as the deployer, and the reconcile looks again shortly.
   */
  awaitingAuthority?: boolean;
  /** First failure, if any (`Kind/name: message`). */
  error?: { reason: string; message: string };
}

/** Inputs of the Team status. */
export interface TeamStatusInput {
  team: Team;
  plan: TenancyPlan;
  outcomes: readonly NamespaceOutcome[];
  /** Namespaces deleted or released in this pass or still going away. */
  removing: readonly string[];
  now: Date;
}

function quotaStatus(quota: V1ResourceQuota | undefined): TeamNamespaceStatus['quota'] | undefined {
  if (!quota?.status) return undefined;
  const sorted = (m: Record<string, string> | undefined) =>
    Object.fromEntries(Object.entries(m ?? {}).sort(([a], [b]) => a.localeCompare(b)));
  return { hard: sorted(quota.status.hard), used: sorted(quota.status.used) };
}

/**
 * The Team status after a pass (pure). Ready: every namespace exists and every object is applied.
 * Progressing: this pass wrote something, or namespaces are still being created or removed.
 * Degraded: a conflict or a failed write (reason and message name the namespace and object).
 */
export function assessTeamStatus(input: TeamStatusInput): TeamStatus {
  const { team, plan, outcomes, now } = input;
  const generation = team.metadata?.generation;
  const namespaces: TeamNamespaceStatus[] = [
    ...outcomes.map((o) => {
      const quota = quotaStatus(o.quota);
      const phase = o.live ? (o.live.metadata?.deletionTimestamp ? 'Terminating' : o.live.status?.phase ?? 'Active') : 'Pending';
      return { name: o.name, environment: o.environment, phase, ...(quota ? { quota } : {}) };
    }),
    ...plan.terminating.map((name) => ({ name, environment: environmentOf(team, name), phase: 'Terminating' })),
  ].sort((a, b) => a.name.localeCompare(b.name));

  const failed = outcomes.filter((o) => o.error);
  const writes = outcomes.reduce((n, o) => n + o.writes, 0);
  const pending = outcomes.filter((o) => !o.live || o.pending).length + plan.terminating.length;
  let conditions: Condition[] = (team.status?.conditions) ?? [];
  const gen = generation !== undefined ? { observedGeneration: generation } : {};

  if (plan.conflicts.length > 0) {
    const msg = plan.conflicts.map((c) => c.message).join('; ');
    conditions = setCondition(conditions, { ...readyCondition(false, Reasons.NamespaceConflict, msg), ...gen }, now);
    conditions = setCondition(conditions, { ...degradedCondition(true, Reasons.NamespaceConflict, msg), ...gen }, now);
  } else if (failed.length > 0) {
    const first = failed[0]!.error!;
    const msg = failed.map((o) => `${o.name}: ${o.error!.message}`).join('; ');
    conditions = setCondition(conditions, { ...readyCondition(false, first.reason, msg), ...gen }, now);
    conditions = setCondition(conditions, { ...degradedCondition(true, first.reason, msg), ...gen }, now);
  } else {
    const ready = pending === 0;
    const names = namespaces.map((n) => n.name).join(', ');
    conditions = setCondition(
      conditions,
      ready
        ? { ...readyCondition(true, Reasons.NamespacesReady, `namespaces ready: ${names}`), ...gen }
        : { ...readyCondition(false, Reasons.Progressing, `waiting for ${pending} namespace(s)`), ...gen },
      now,
    );
    conditions = setCondition(conditions, { ...degradedCondition(false, Reasons.Reconciled, 'no conflicts, every object applied'), ...gen }, now);
  }
  const progressing = writes > 0 || pending > 0 || input.removing.length > 0;
  conditions = setCondition(
    conditions,
    progressing
      ? {
          ...progressingCondition(
            true,
            Reasons.Reconciling,
            [
              writes > 0 ? `applied ${writes} object(s)` : '',
              pending > 0 ? `${pending} namespace(s) pending` : '',
              input.removing.length > 0 ? `removing ${input.removing.join(', ')}` : '',
            ]
              .filter(Boolean)
              .join('; '),
          ),
          ...gen,
        }
      : { ...progressingCondition(false, Reasons.Reconciled, 'up to date'), ...gen },
    now,
  );
  conditions = orderConditions(conditions);
  return {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    namespaces,
    conditions,
  };
}

function orderConditions(conditions: Condition[]): Condition[] {
  const order: string[] = [ConditionType.Ready, ConditionType.Progressing, ConditionType.Degraded];
  const rank = (t: string) => (order.includes(t) ? order.indexOf(t) : order.length);
  return [...conditions].sort((a, b) => rank(a.type) - rank(b.type) || a.type.localeCompare(b.type));
}

function environmentOf(team: Team, namespace: string): string {
  const name = team.metadata?.name ?? '';
  return namespace === name ? 'default' : namespace.slice(name.length + 1);
}
