/**
 * Team membership, read from paved.dev Team objects in the informer cache, and namespace ownership,
 * read from the Namespaces themselves. Pure functions: objects in, names out.
 *
 * Ownership: a namespace belongs to the team named by its own `paved.dev/team` label, on a Namespace
 * the tenancy controller manages (`app.kubernetes.io/managed-by: paved`). Only the controller writes
 * those labels (tenants cannot update Namespaces), and only after it refused every conflicting claim;
 * a Team's `spec.environments` is a claim and its `status.namespaces` a report, so neither decides: a
 * Team that names another's namespace, or a controller restart with empty status, moves nothing.
 *
 * The subject readers are tolerant of the
 * shapes a subject list can take (`"name"`, `{kind, name}`, `{user}`/`{group}`, `{users, groups}`), so
 * the API keeps working while the Team schema settles.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { Labels, MANAGED_BY } from '../api/index.js';
import type { Caller } from './caller.js';

/** A Team as the API shows it. */
export interface TeamSummary {
  name: string;
  namespaces: string[];
  owners: Subject[];
  members: Subject[];
  costCenter?: string;
  monthlyBudget?: unknown;
}

/** A user or group named by a Team. `any` means a bare string, matched against both. */
export interface Subject {
  kind: 'User' | 'Group' | 'Any';
  name: string;
}

type Loose = Record<string, unknown>;

function asRecord(v: unknown): Loose | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Loose) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Reads a subject list in any of the accepted shapes. */
export function readSubjects(value: unknown): Subject[] {
  const out: Subject[] = [];
  const rec = asRecord(value);
  if (rec) {
    for (const u of Array.isArray(rec['users']) ? rec['users'] : []) if (str(u)) out.push({ kind: 'User', name: u as string });
    for (const g of Array.isArray(rec['groups']) ? rec['groups'] : []) if (str(g)) out.push({ kind: 'Group', name: g as string });
    return out;
  }
  if (!Array.isArray(value)) return out;
  for (const entry of value) {
    if (str(entry)) {
      out.push({ kind: 'Any', name: entry as string });
      continue;
    }
    const e = asRecord(entry);
    if (!e) continue;
    if (str(e['group'])) out.push({ kind: 'Group', name: e['group'] as string });
    else if (str(e['user'])) out.push({ kind: 'User', name: e['user'] as string });
    else if (str(e['name'])) {
      const kind = String(e['kind'] ?? '').toLowerCase();
      out.push({ kind: kind === 'group' ? 'Group' : kind === 'user' ? 'User' : 'Any', name: e['name'] as string });
    }
  }
  return out;
}

/** namespace -> owning team. Built from the Namespaces in the cache (see the header). */
export type NamespaceOwners = ReadonlyMap<string, string>;

/** The team that owns a Namespace object, by its controller-written labels; undefined when none. */
export function namespaceOwner(ns: KubernetesObject): string | undefined {
  const labels = ns.metadata?.labels ?? {};
  if (labels[Labels.managedBy] !== MANAGED_BY) return undefined;
  return str(labels[Labels.team]);
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

/** The namespaces a team owns, sorted. */
export function teamNamespaces(team: KubernetesObject | string, owners: NamespaceOwners): string[] {
  const name = typeof team === 'string' ? team : (team.metadata?.name ?? '');
  return [...owners].filter(([, t]) => t === name).map(([ns]) => ns).sort();
}

/** The API's view of a Team object. */
export function summarizeTeam(team: KubernetesObject, owners: NamespaceOwners = new Map()): TeamSummary {
  const t = team as KubernetesObject & { spec?: Loose };
  const spec = t.spec ?? {};
  const summary: TeamSummary = {
    name: team.metadata?.name ?? '',
    namespaces: teamNamespaces(team, owners),
    owners: readSubjects(spec['owners']),
    members: readSubjects(spec['members']),
  };
  const costCenter = str(spec['costCenter']);
  if (costCenter) summary.costCenter = costCenter;
  if (spec['monthlyBudget'] !== undefined) summary.monthlyBudget = spec['monthlyBudget'];
  else if (spec['budget'] !== undefined) summary.monthlyBudget = spec['budget'];
  return summary;
}

function subjectMatches(s: Subject, subject: string, groups: ReadonlySet<string>): boolean {
  if (s.kind === 'User') return s.name === subject;
  if (s.kind === 'Group') return groups.has(s.name);
  return s.name === subject || groups.has(s.name);
}

/** True when the user or one of the groups is among the Team's owners or members. */
export function isTeamMember(team: KubernetesObject, subject: string, groups: readonly string[]): boolean {
  const summary = summarizeTeam(team);
  const set = new Set(groups);
  return [...summary.owners, ...summary.members].some((s) => subjectMatches(s, subject, set));
}

/** Options that decide the platform-wide roles. */
export interface RoleGroups {
  adminGroup: string;
  financeGroup: string;
}

/** Builds the Caller for an authenticated identity from the Teams in the cache. */
export function resolveCaller(
  subject: string,
  groups: readonly string[],
  teams: ReadonlyArray<KubernetesObject>,
  roles: RoleGroups,
): Caller {
  const mine = teams
    .filter((t) => isTeamMember(t, subject, groups))
    .map((t) => t.metadata?.name ?? '')
    .filter(Boolean)
    .sort();
  return {
    subject,
    groups: [...groups],
    teams: mine,
    isPlatformAdmin: groups.includes(roles.adminGroup),
    isFinance: groups.includes(roles.financeGroup),
  };
}

/** The team that owns a namespace (see the header), or undefined. */
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
