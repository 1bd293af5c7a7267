/**
 * The API's view of a Team (pure). Membership and roles come from src/access, a team's namespaces and
 * namespace ownership from src/tenancy (the one definition of both); this module only shapes the
 * typed Team for the API.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Team, TeamSpec } from '../api/index.js';
import { asTeam, readSubjects, type Subject } from '../access/index.js';
import { teamNamespaces, type NamespaceOwners } from '../tenancy/namespaces.js';

/** A Team as the API shows it. */
export interface TeamSummary {
  name: string;
  namespaces: string[];
  owners: Subject[];
  members: Subject[];
  costCenter?: string;
  monthlyBudget?: TeamSpec['monthlyBudget'];
}

/** The API's view of a Team object. */
export function summarizeTeam(obj: Team | KubernetesObject, owners: NamespaceOwners = new Map()): TeamSummary {
  const team = asTeam(obj);
  const spec = team.spec as TeamSpec | undefined;
  const summary: TeamSummary = {
    name: team.metadata?.name ?? '',
    namespaces: spec ? teamNamespaces(team, owners) : [],
    owners: readSubjects(spec?.owners),
    members: readSubjects(spec?.members),
  };
  if (spec?.costCenter) summary.costCenter = spec.costCenter;
  if (spec?.monthlyBudget !== undefined) summary.monthlyBudget = spec.monthlyBudget;
  return summary;
}
