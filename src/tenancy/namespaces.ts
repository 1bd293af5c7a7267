/**
 * A Team's namespaces, the one definition every capability uses (pure).
 *
 * - `teamEnvironments(team)`: what the Team asks for, `<team>` (environment "default") or one
 *   `<team>-<env>` per `spec.environments` entry. The renderer provisions exactly these.
 * - Ownership: a namespace belongs to the team named by its own `paved.dev/team` label on a Namespace
 *   the tenancy controller manages (`app.kubernetes.io/managed-by: paved`). Only the controller writes
 *   those labels (tenants cannot update Namespaces), and only after it refused every conflicting claim;
 *   a Team's `spec.environments` is a claim and its `status.namespaces` a report, so neither decides.
 * - `teamNamespaces(team, owners)`: the team's namespaces as the API and cost show them: the ones it
 *   asks for (`teamEnvironments`) that it also owns. A claim on another team's namespace shows nothing;
 *   a namespace being removed from the Team is no longer listed.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { DEFAULT_ENVIRONMENT, Labels, MANAGED_BY, type Team } from '../api/index.js';

/** One namespace a Team asks for. */
export interface TeamEnvironment {
  namespace: string;
  environment: string;
}

/** The namespaces of a Team, sorted: `<team>` (environment "default") or one `<team>-<env>` per environment. */
export function teamEnvironments(team: Team): TeamEnvironment[] {
  const name = team.metadata?.name ?? '';
  const envs = [...new Set(team.spec.environments ?? [])].sort();
  if (envs.length === 0) return [{ namespace: name, environment: DEFAULT_ENVIRONMENT }];
  return envs.map((env) => ({ namespace: `${name}-${env}`, environment: env }));
}

/** namespace -> owning team, built from the Namespaces in a cache (see the header). */
export type NamespaceOwners = ReadonlyMap<string, string>;

/** The team that owns a Namespace object, by its controller-written labels; undefined when none. */
export function namespaceOwner(ns: KubernetesObject | undefined): string | undefined {
  const labels = ns?.metadata?.labels ?? {};
  if (labels[Labels.managedBy] !== MANAGED_BY) return undefined;
  const team = labels[Labels.team];
  return team ? team : undefined;
}

/** True when paved manages the namespace for a team (for `team` when given). */
export function isManagedNamespace(ns: KubernetesObject | undefined, team?: string): boolean {
  const owner = namespaceOwner(ns);
  return owner !== undefined && (team === undefined || owner === team);
}

/** The owners of every managed Namespace in the list. */
export function namespaceIndex(namespaces: ReadonlyArray<KubernetesObject>): Map<string, string> {
  const index = new Map<string, string>();
  for (const ns of namespaces) {
    const name = ns.metadata?.name;
    const owner = namespaceOwner(ns);
    if (name && owner) index.set(name, owner);
  }
  return index;
}

/** The team that owns a namespace, or undefined. */
export function teamOfNamespace(namespace: string, owners: NamespaceOwners): string | undefined {
  return owners.get(namespace);
}

/**
 * The team of a namespaced object: the team owning its namespace. The object's own `paved.dev/team`
 * label never counts: a label is writable by whoever can edit the object, namespace ownership is not.
 */
export function teamOfObject(obj: KubernetesObject, owners: NamespaceOwners): string | undefined {
  const ns = obj.metadata?.namespace;
  return ns ? teamOfNamespace(ns, owners) : undefined;
}

/** The namespaces a Team asks for and owns, with their environments, sorted by namespace. */
export function ownedTeamEnvironments(team: Team, owners: NamespaceOwners): TeamEnvironment[] {
  const name = team.metadata?.name ?? '';
  return teamEnvironments(team).filter((e) => name !== '' && owners.get(e.namespace) === name);
}

/** The names of the namespaces a Team asks for and owns, sorted (see the header). */
export function teamNamespaces(team: Team, owners: NamespaceOwners): string[] {
  return ownedTeamEnvironments(team, owners).map((e) => e.namespace);
}
