/**
 * The WebService status (pure): per-object readiness from the live objects, the inventory that pruning
 * uses next time, the tier in use, policy results, conditions and the rollout state the reconcile's
 * rollout step decided (`rollout`; absent: the recorded one is kept). It leaves condition transition times
 * alone when nothing changed, so a steady-state reconcile computes an identical status and writes nothing.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { setCondition, type Condition, type ConditionInput } from '../kube/conditions.js';
import { Reasons } from '../kube/reasons.js';
import { withRolloutConditions } from '../delivery/conditions.js';
import { readRolloutState } from '../delivery/observe.js';
import type { RolloutState } from '../delivery/types.js';
import { referencedConfigMaps, type RenderedObject, type WebService } from './render/index.js';
import type { GoldenPathTier } from './render/spec.js';
import { formatViolations } from './policy/evaluate.js';
import type { Violation } from './policy/types.js';

export type WebServiceStatus = NonNullable<WebService['status']>;
export type InventoryEntry = NonNullable<WebServiceStatus['inventory']>[number];

/** Condition types of a WebService. */
export const WebServiceConditions = {
  Ready: 'Ready',
  Available: 'Available',
  PolicyViolation: 'PolicyViolation',
  /** Set once a cross-team dependency was refused (consent.ts); True again when every one is admitted. */
  DependenciesAllowed: 'DependenciesAllowed',
} as const;

/** A condition in a state people must act on: not applied (other than on the way), violating, degraded, refused. */
function isBad(c: Condition | undefined): boolean {
  if (!c) return false;
  const { type, status, reason } = c;
  if (type === WebServiceConditions.Ready || type === WebServiceConditions.Available) return status === 'False' && reason !== Reasons.Progressing;
  if (type === WebServiceConditions.DependenciesAllowed) return status === 'False';
  return (type === WebServiceConditions.PolicyViolation || type === 'Degraded') && status === 'True';
}

/**
 * The conditions of `after` worth an Event (pure): those entering a bad state (a Warning) or leaving one
 * (Normal). A healthy creation (conditions appearing, Progressing, then Available) and a rollout's
 * progress (the plan has Events of its own) emit none: they are in status, and an Event each would be
 * one more write per service per deploy.
 */
export function eventWorthyConditions(before: readonly Condition[] | undefined, after: readonly Condition[] | undefined): Condition[] {
  return (after ?? []).filter((c) => isBad(c) || isBad(before?.find((b) => b.type === c.type)));
}

/** The identity of an object in the inventory. */
export function inventoryKey(o: { apiVersion: string; kind: string; name: string }): string {
  return `${o.apiVersion}|${o.kind}|${o.name}`;
}

/**
 * Inventory entries of the previous render that this one no longer produces (to prune), except the
 * ConfigMaps a rendered pod template still reads: the stable Deployment keeps the stable revision's
 * template, and with it that revision's config, until a promotion replaces it.
 */
export function planPrune(previous: readonly InventoryEntry[] | undefined, current: readonly RenderedObject[]): InventoryEntry[] {
  const keep = new Set(current.map((o) => inventoryKey({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name })));
  const read = referencedConfigMaps(current);
  return (previous ?? []).filter((e) => !keep.has(inventoryKey(e)) && !(e.apiVersion === 'v1' && e.kind === 'ConfigMap' && read.has(e.name)));
}

interface DeploymentLike {
  metadata?: { generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    readyReplicas?: number;
  };
}

/** Why nothing was applied: the Ready (and first Available) condition's reason and message. */
function notAppliedReason(outcome: Exclude<StatusInput['outcome'], { kind: 'applied' }>, enforced: StatusInput['violations']): [string, string] {
  if (outcome.kind === 'policy-violation') return [Reasons.PolicyViolation, `not applied: ${formatViolations(enforced)}`];
  if (outcome.kind === 'invalid-spec') return [Reasons.InvalidSpec, outcome.message];
  return [outcome.reason, outcome.message];
}

/** The inventory: every applied object with its readiness. */
function inventoryOf(objects: ReadonlyArray<{ desired: RenderedObject; live: KubernetesObject | undefined }>): InventoryEntry[] {
  return objects.map(({ desired, live }) => {
    const r = objectReadiness(live);
    return {
      apiVersion: desired.apiVersion,
      kind: desired.kind,
      name: desired.metadata.name,
      ready: r.ready,
      ...(r.message ? { message: r.message } : {}),
    };
  });
}

/** The stable Deployment's replica counts for status (0 before it exists). */
function replicaCounts(live: KubernetesObject | undefined): { replicas: number; readyReplicas: number } {
  if (!live) return { replicas: 0, readyReplicas: 0 };
  const st = (live as DeploymentLike).status;
  return { replicas: st?.replicas ?? 0, readyReplicas: st?.readyReplicas ?? 0 };
}

/** Readiness of one live object: Deployments when rolled out and available; others when they exist. */
export function objectReadiness(live: KubernetesObject | undefined): { ready: boolean; message?: string } {
  if (!live) return { ready: false, message: 'not found' };
  if (live.kind !== 'Deployment') return { ready: true };
  const d = live as DeploymentLike;
  const desired = d.spec?.replicas ?? 1;
  const st = d.status ?? {};
  const available = st.availableReplicas ?? 0;
  const updated = st.updatedReplicas ?? 0;
  const observed = (st.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
  const ready = observed && updated >= desired && available >= desired && (st.replicas ?? 0) <= desired;
  return { ready, message: `${available}/${desired} available, ${updated} updated` };
}

/** What the reconcile learned, as input to the status. */
export interface StatusInput {
  ws: WebService;
  tier: GoldenPathTier;
  revision: string;
  url?: string;
  violations: readonly Violation[];
  /** Dependencies whose callee does not admit this service (consent.ts). */
  refusedDependencies?: ReadonlyArray<{ message: string }>;
  /** The rollout state decided in this pass (written as `status.rollout`); absent: keep the recorded one. */
  rollout?: RolloutState;
  /** The outcome of this reconcile. */
  outcome:
    | { kind: 'applied'; objects: ReadonlyArray<{ desired: RenderedObject; live: KubernetesObject | undefined }> }
    | { kind: 'policy-violation' }
    | { kind: 'invalid-spec'; message: string }
    | { kind: 'apply-failed'; reason: string; message: string };
  now: Date | string | number;
}

function set(conditions: Condition[], input: ConditionInput, now: StatusInput['now']): Condition[] {
  return setCondition(conditions, input, now);
}

/**
 * DependenciesAllowed as [type, status, reason, message]: set once a dependency is refused, and kept
 * (then True) once it was set; undefined while no dependency was ever refused.
 */
function dependenciesCondition(conditions: readonly Condition[], refused: ReadonlyArray<{ message: string }>): [string, boolean, string, string] | undefined {
  if (refused.length) return [WebServiceConditions.DependenciesAllowed, false, Reasons.DependencyNotAllowed, refused.map((r) => r.message).join('; ')];
  if (conditions.some((c) => c.type === WebServiceConditions.DependenciesAllowed)) {
    return [WebServiceConditions.DependenciesAllowed, true, Reasons.DependenciesAllowed, 'every dependency admits this service'];
  }
  return undefined;
}

/** The new status (pure). */
export function assessStatus(input: StatusInput): WebServiceStatus {
  const { ws, outcome, now } = input;
  const gen = ws.metadata?.generation;
  const cond = (type: string, status: boolean, reason: string, message: string): ConditionInput => ({
    type,
    status: status ? 'True' : 'False',
    reason,
    message,
    ...(gen !== undefined ? { observedGeneration: gen } : {}),
  });
  const previous = ws.status ?? {};
  let conditions = [...((previous.conditions ?? []) as Condition[])];
  const enforced = input.violations.filter((v) => v.mode === 'enforce');
  const audited = input.violations.filter((v) => v.mode === 'audit');
  conditions = set(
    conditions,
    enforced.length
      ? cond(WebServiceConditions.PolicyViolation, true, Reasons.PolicyViolation, formatViolations(enforced))
      : cond(
          WebServiceConditions.PolicyViolation,
          false,
          Reasons.Reconciled,
          audited.length ? `no enforced violation; audited: ${formatViolations(audited)}` : 'no policy violation',
        ),
    now,
  );
  const status: WebServiceStatus = {
    ...previous,
    ...(gen !== undefined ? { observedGeneration: gen } : {}),
    tier: input.tier,
    revision: input.revision,
    policy: { violations: input.violations.slice(0, 50).map((v) => ({ ...v })) },
  };
  if (input.url) status.url = input.url;
  else delete status.url;

  if (outcome.kind === 'applied') {
    const inventory = inventoryOf(outcome.objects);
    const notReady = inventory.filter((e) => !e.ready);
    const stable = outcome.objects.find((o) => o.desired.kind === 'Deployment' && o.desired.metadata.name === ws.metadata?.name);
    status.inventory = inventory;
    Object.assign(status, replicaCounts(stable?.live));
    const available = notReady.length === 0;
    const waiting = notReady.map((e) => `${e.kind}/${e.name}${e.message ? ` (${e.message})` : ''}`).join(', ');
    conditions = set(
      conditions,
      cond(WebServiceConditions.Available, available, available ? Reasons.Available : Reasons.Progressing, available ? `all ${inventory.length} objects ready` : `waiting for ${waiting}`),
      now,
    );
    conditions = set(
      conditions,
      cond(WebServiceConditions.Ready, available, available ? Reasons.Reconciled : Reasons.Progressing, available ? `applied ${inventory.length} objects (${input.tier} tier)` : `applied; waiting for ${waiting}`),
      now,
    );
  } else {
    const [reason, message] = notAppliedReason(outcome, enforced);
    conditions = set(conditions, cond(WebServiceConditions.Ready, false, reason, message), now);
    if (!conditions.some((c) => c.type === WebServiceConditions.Available)) {
      conditions = set(conditions, cond(WebServiceConditions.Available, false, reason, message), now);
    }
  }
  const dependencies = dependenciesCondition(conditions, input.refusedDependencies ?? []);
  if (dependencies) conditions = set(conditions, cond(...dependencies), now);
  // Progressing and Degraded belong to the rollout: set from the state written with them, so the one
  // status write never disagrees with itself.
  if (input.rollout) status.rollout = input.rollout as unknown as WebServiceStatus['rollout'];
  status.conditions = withRolloutConditions(conditions, input.rollout ?? readRolloutState(ws), gen, now);
  return status;
}
