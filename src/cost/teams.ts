/**
 * Which teams exist and what they budget. The cost API asks this directory (never Prometheus) whether
 * a team exists, so an unknown team is a 404 even if stale series still carry its label.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
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
    get: async (name) => byName.get(name),
    list: async () => [...byName.values()],
  };
}

type Loose = Record<string, unknown>;
const rec = (v: unknown): Loose | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Loose) : undefined);

/** Reads a money amount given as a number or a decimal string ("1500", "1500.50"). */
function amount(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  return undefined;
}

/**
 * Reads the budget of a Team object: `spec.monthlyBudget.amount` (the CRD's shape; number or decimal
 * string). Also tolerated: `spec.budget.{amount|monthly}` or a plain amount. Optional per-team
 * thresholds: `warningPercent`/`overPercent` (or `warningRatio`/`overRatio`) beside the amount.
 */
export function teamInfoFromObject(team: KubernetesObject): TeamInfo {
  const name = team.metadata?.name ?? '';
  const spec = rec((team as { spec?: unknown }).spec);
  const budget = spec?.['monthlyBudget'] ?? spec?.['budget'];
  const b = rec(budget);
  const monthly = b ? (amount(b['monthly']) ?? amount(b['monthlyUSD']) ?? amount(b['amount']) ?? amount(b['limit'])) : amount(budget);
  const thresholds: { warningRatio?: number; overRatio?: number } = {};
  const warn = b ? (amount(b['warningPercent']) ?? amount(b['warnPercent'])) : undefined;
  const over = b ? amount(b['overPercent']) : undefined;
  if (warn !== undefined) thresholds.warningRatio = warn / 100;
  if (over !== undefined) thresholds.overRatio = over / 100;
  const warnRatio = b ? amount(b['warningRatio']) : undefined;
  const overRatio = b ? amount(b['overRatio']) : undefined;
  if (warnRatio !== undefined) thresholds.warningRatio = warnRatio;
  if (overRatio !== undefined) thresholds.overRatio = overRatio;
  return {
    name,
    ...(monthly !== undefined ? { monthlyBudget: monthly } : {}),
    ...(Object.keys(thresholds).length > 0 ? { thresholds } : {}),
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
