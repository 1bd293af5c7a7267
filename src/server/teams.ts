/**
 * Team membership and namespace ownership, read from paved.dev Team objects in the informer cache.
 * Pure functions: a Team object (or a list of them) in, names out. The readers are tolerant of the
 * shapes a subject list can take (`"name"`, `{kind, name}`, `{user}`/`{group}`, `{users, groups}`), so
 * the API keeps working while the Team schema settles.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
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

/** The namespaces a Team owns: `status.namespaces` when reported, else derived from `spec.environments`. */
export function teamNamespaces(team: KubernetesObject): string[] {
  const name = team.metadata?.name ?? '';
  const t = team as KubernetesObject & { spec?: Loose; status?: Loose };
  const reported = t.status?.['namespaces'];
  if (Array.isArray(reported) && reported.length > 0) {
    const names = reported.map((n) => str(n) ?? str(asRecord(n)?.['name'])).filter((n): n is string => !!n);
    if (names.length > 0) return names;
  }
  const envs = t.spec?.['environments'];
  if (Array.isArray(envs) && envs.length > 0) {
    return envs
      .map((e) => str(e) ?? str(asRecord(e)?.['name']))
      .filter((e): e is string => !!e)
      .map((e) => `${name}-${e}`);
  }
  return [name];
}

/** The API's view of a Team object. */
export function summarizeTeam(team: KubernetesObject): TeamSummary {
  const t = team as KubernetesObject & { spec?: Loose };
  const spec = t.spec ?? {};
  const summary: TeamSummary = {
    name: team.metadata?.name ?? '',
    namespaces: teamNamespaces(team),
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

/** The team that owns a namespace, by the Teams' namespaces. */
export function teamOfNamespace(namespace: string, teams: ReadonlyArray<KubernetesObject>): string | undefined {
  for (const t of teams) if (teamNamespaces(t).includes(namespace)) return t.metadata?.name;
  return undefined;
}

/**
 * The team of a namespaced object: the Team owning its namespace. The object's own `paved.dev/team`
 * label is only a fallback for namespaces no Team claims: a label is writable by whoever can edit the
 * object, namespace ownership is not, so it must not let one team's object show up in another's stream.
 */
export function teamOfObject(obj: KubernetesObject, teams: ReadonlyArray<KubernetesObject>): string | undefined {
  const ns = obj.metadata?.namespace;
  const owner = ns ? teamOfNamespace(ns, teams) : undefined;
  return owner ?? obj.metadata?.labels?.['paved.dev/team'];
}
