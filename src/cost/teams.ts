/**
 * Which teams exist and what they budget. The cost API asks this directory (never Prometheus) whether
 * a team exists, so an unknown team is a 404 even if stale series still carry its label.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Team } from '../api/index.js';
import type { BudgetThresholds } from './model.js';

export interface TeamInfo {
  readonly name: string;
  /** Monthly budget in the pricing currency (absent: no budget). */
  readonly monthlyBudget?: number | undefined;
  /** Per-team thresholds overriding the configured ones. */
  readonly thresholds?: Partial<BudgetThresholds> | undefined;
}

export interface TeamDirectory {
  get(name: string): Promise<TeamInfo | undefined>;
  list(): Promise<TeamInfo[]>;
}

/** A fixed directory (tests, benchmarks). */
export function staticTeamDirectory(teams: readonly TeamInfo[]): TeamDirectory {
  const byName = new Map(teams.map((t) => [t.name, t]));
  return {
    get: (name) => Promise.resolve(byName.get(name)),
    list: () => Promise.resolve([...byName.values()]),
  };
}

/**
 * Reads the budget of a Team: the CRD's `spec.monthlyBudget.amount` (a number; the API server refuses
 * anything else and prunes fields the schema does not define, so there is no other field to read).
 * Per-team thresholds are not part of the Team schema: they come from the pricing config (or a static
 * directory).
 */
export function teamInfoFromObject(obj: Team | KubernetesObject): TeamInfo {
  const team = obj as Team;
  const amount = (team.spec as Team['spec'] | undefined)?.monthlyBudget?.amount;
  return {
    name: team.metadata?.name ?? '',
    ...(typeof amount === 'number' && Number.isFinite(amount) ? { monthlyBudget: amount } : {}),
  };
}

/** A directory over any source of Team objects (an informer cache's list, or a direct API list). */
export function teamDirectoryFrom(listTeams: () => Promise<readonly KubernetesObject[]> | readonly KubernetesObject[]): TeamDirectory {
  const all = async (): Promise<TeamInfo[]> => (await listTeams()).map(teamInfoFromObject).filter((t) => t.name !== '');
  return {
    get: async (name) => (await all()).find((t) => t.name === name),
    list: all,
  };
}
