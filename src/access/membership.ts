/**
 * Team membership and platform roles (pure): which Teams a user or group belongs to, read from the
 * typed Team objects (`spec.owners` and `spec.members`, each `{ users, groups }` as the CRD defines
 * them), and the Caller built from that.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Team, TeamSubjects } from '../api/index.js';
import type { Caller } from './caller.js';

/** A user or group named by a Team. */
export interface Subject {
  kind: 'User' | 'Group';
  name: string;
}

/** The subjects of an owners or members list, users first. */
export function readSubjects(subjects: TeamSubjects | undefined): Subject[] {
  return [
    ...(subjects?.users ?? []).filter((u) => u !== '').map((name): Subject => ({ kind: 'User', name })),
    ...(subjects?.groups ?? []).filter((g) => g !== '').map((name): Subject => ({ kind: 'Group', name })),
  ];
}

/** A Team object as the generated type (the informer cache holds them as KubernetesObjects). */
export function asTeam(obj: KubernetesObject): Team {
  return obj as Team;
}

/** True when the user or one of the groups is among the Team's owners or members. */
export function isTeamMember(team: Team | KubernetesObject, subject: string, groups: readonly string[]): boolean {
  const spec = asTeam(team).spec as Team['spec'] | undefined;
  const set = new Set(groups);
  return [...readSubjects(spec?.owners), ...readSubjects(spec?.members)].some((s) =>
    s.kind === 'User' ? s.name === subject : set.has(s.name),
  );
}

/** The groups that carry the platform-wide roles. */
export interface RoleGroups {
  adminGroup: string;
  financeGroup: string;
}

/** Builds the Caller for an authenticated identity from the Teams in the cache. */
export function resolveCaller(
  subject: string,
  groups: readonly string[],
  teams: ReadonlyArray<Team | KubernetesObject>,
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
