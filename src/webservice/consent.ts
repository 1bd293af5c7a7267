/**
 * Cross-team dependency consent (pure). A WebService that lists another team's service in
 * `networking.dependencies` would otherwise make the controller open the callee's NetworkPolicy to it:
 * one team rewriting another's network. A dependency is admitted when the callee agrees:
 *   - same namespace, or both namespaces owned by the same team (their `paved.dev/team` labels), or
 *   - the callee lists the caller's team or namespace in `spec.networking.allowedCallers`.
 * Otherwise the callee's policy stays closed and the caller gets a condition saying which dependency
 * was refused and what the callee must add.
 */
import type { WebService } from './render/index.js';

/** Where a caller runs: its namespace and the team owning it (undefined when no team does). */
export interface CallerIdentity {
  namespace: string;
  team?: string | undefined;
}

/** True when `callee` (owned by `calleeTeam`) admits calls from `caller`. */
export function calleeAllows(callee: WebService, calleeTeam: string | undefined, caller: CallerIdentity): boolean {
  if (caller.namespace === callee.metadata?.namespace) return true;
  if (calleeTeam !== undefined && calleeTeam === caller.team) return true;
  return (callee.spec?.networking?.allowedCallers ?? []).some(
    (a) => (a.namespace !== undefined && a.namespace === caller.namespace) || (a.team !== undefined && a.team === caller.team),
  );
}

/** A dependency of the caller that its callee does not admit. */
export interface RefusedDependency {
  /** `spec.networking.dependencies[i]` */
  field: string;
  /** `namespace/service` of the callee. */
  callee: string;
  message: string;
}

/**
 * The caller's dependencies that exist and do not admit it. A dependency that does not exist (yet)
 * is not reported here: nothing is opened for it, and it is checked again when it appears.
 */
export function refusedDependencies(
  caller: WebService,
  callerTeam: string | undefined,
  lookup: (namespace: string, service: string) => { ws: WebService; team: string | undefined } | undefined,
): RefusedDependency[] {
  const ns = caller.metadata?.namespace ?? '';
  const out: RefusedDependency[] = [];
  (caller.spec?.networking?.dependencies ?? []).forEach((d, i) => {
    const depNs = d.namespace ?? ns;
    if (depNs === ns) return;
    const found = lookup(depNs, d.service);
    if (!found || calleeAllows(found.ws, found.team, { namespace: ns, team: callerTeam })) return;
    const who = callerTeam ? `team ${callerTeam} or namespace ${ns}` : `namespace ${ns}`;
    out.push({
      field: `spec.networking.dependencies[${i}]`,
      callee: `${depNs}/${d.service}`,
      message: `spec.networking.dependencies[${i}]: ${depNs}/${d.service}${found.team ? ` (team ${found.team})` : ''} does not allow this caller: its owner must add ${who} to its spec.networking.allowedCallers`,
    });
  });
  return out;
}
