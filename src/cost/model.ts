/**
 * The cost model (pure): quantities measured by PromQL in, priced and derived figures out.
 * OpenCost-compatible: per container and hour, allocated = max(request, usage) for CPU
 * (core-hours) and memory (GiB-hours), times the prices; persistent-volume claims by requested
 * GiB-hours. Idle = allocated - used (= requested - used when usage stays under the request);
 * efficiency = used / requested.
 */
import type { DateTime } from 'luxon';
import type { CostMetric } from './queries.js';
import type { Pricing } from './pricing.js';

/** Quantities of one group over one period: core-hours and GiB-hours, keyed by metric. */
export type Quantities = Record<CostMetric, number>;

export function zeroQuantities(): Quantities {
  return { cpuAllocated: 0, cpuRequested: 0, cpuUsed: 0, memoryAllocated: 0, memoryRequested: 0, memoryUsed: 0, storage: 0 };
}

export function addQuantities(a: Quantities, b: Quantities): Quantities {
  const out = zeroQuantities();
  for (const k of Object.keys(out) as CostMetric[]) out[k] = a[k] + b[k];
  return out;
}

export function sumQuantities(list: Iterable<Quantities>): Quantities {
  let total = zeroQuantities();
  for (const q of list) total = addQuantities(total, q);
  return total;
}

/** A priced line: what the API returns for a team, a service or a bucket. Money in `currency`. */
export interface CostLine {
  cpuCoreHours: number;
  cpuRequestedCoreHours: number;
  cpuUsedCoreHours: number;
  memoryGiBHours: number;
  memoryRequestedGiBHours: number;
  memoryUsedGiBHours: number;
  storageGiBHours: number;
  cpuCost: number;
  memoryCost: number;
  storageCost: number;
  totalCost: number;
  /** Allocated minus used, priced (what the team pays for and does not use). */
  idleCost: number;
  /** used / requested (null when nothing is requested). */
  cpuEfficiency: number | null;
  memoryEfficiency: number | null;
  /** Cost of what is used / cost of what is allocated, CPU and memory (OpenCost's total efficiency). */
  costEfficiency: number | null;
}

const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);

/** Prices a set of quantities. */
export function priceQuantities(q: Quantities, pricing: Pricing): CostLine {
  const cpuCost = q.cpuAllocated * pricing.cpuCoreHour;
  const memoryCost = q.memoryAllocated * pricing.memoryGiBHour;
  const storageCost = pricing.includeStorage ? q.storage * pricing.storageGiBHour : 0;
  const usedCost = q.cpuUsed * pricing.cpuCoreHour + q.memoryUsed * pricing.memoryGiBHour;
  const idleCost =
    Math.max(0, q.cpuAllocated - q.cpuUsed) * pricing.cpuCoreHour +
    Math.max(0, q.memoryAllocated - q.memoryUsed) * pricing.memoryGiBHour;
  return {
    cpuCoreHours: q.cpuAllocated,
    cpuRequestedCoreHours: q.cpuRequested,
    cpuUsedCoreHours: q.cpuUsed,
    memoryGiBHours: q.memoryAllocated,
    memoryRequestedGiBHours: q.memoryRequested,
    memoryUsedGiBHours: q.memoryUsed,
    storageGiBHours: pricing.includeStorage ? q.storage : 0,
    cpuCost,
    memoryCost,
    storageCost,
    totalCost: cpuCost + memoryCost + storageCost,
    idleCost,
    cpuEfficiency: ratio(q.cpuUsed, q.cpuRequested),
    memoryEfficiency: ratio(q.memoryUsed, q.memoryRequested),
    costEfficiency: ratio(usedCost, cpuCost + memoryCost),
  };
}

/** Total cost only (for burn rate and trends). */
export function totalCost(q: Quantities, pricing: Pricing): number {
  return priceQuantities(q, pricing).totalCost;
}

// ---- burn rate and budget ---------------------------------------------------------------------

export type BudgetStatus = 'ok' | 'warning' | 'over';

export interface BudgetThresholds {
  readonly warningRatio: number;
  readonly overRatio: number;
}

export interface BurnInput {
  /** The last whole hour (the end of the measured period). */
  readonly now: DateTime;
  readonly monthToDateCost: number;
  /** Cost over the 7 days ending at `now`. */
  readonly last7DaysCost: number;
  readonly monthlyBudget: number | undefined;
  readonly thresholds: BudgetThresholds;
}

export interface BurnAssessment {
  readonly monthStart: string;
  readonly monthEnd: string;
  readonly monthToDateCost: number;
  /** Cost per day over the last 7 days. */
  readonly burnRatePerDay: number;
  readonly remainingDays: number;
  /** Month-to-date plus the burn rate over the rest of the month. */
  readonly projectedMonthEndCost: number;
  readonly monthlyBudget: number | null;
  /** projected / budget (null without a budget). */
  readonly projectedRatio: number | null;
  /** null when the team has no budget. */
  readonly status: BudgetStatus | null;
}

/** Status of a projection against a budget. */
export function budgetStatus(projectedRatio: number, t: BudgetThresholds): BudgetStatus {
  if (projectedRatio >= t.overRatio) return 'over';
  if (projectedRatio >= t.warningRatio) return 'warning';
  return 'ok';
}

/** Burn rate (cost per day over 7 days) and projected month-end cost (UTC months). */
export function assessBurn(input: BurnInput): BurnAssessment {
  const now = input.now.toUTC();
  const monthStart = now.startOf('month');
  const monthEnd = monthStart.plus({ months: 1 });
  const burnRatePerDay = input.last7DaysCost / 7;
  const remainingDays = monthEnd.diff(now).as('days');
  const projected = input.monthToDateCost + burnRatePerDay * remainingDays;
  const budget = input.monthlyBudget !== undefined && input.monthlyBudget > 0 ? input.monthlyBudget : null;
  const projectedRatio = budget === null ? null : projected / budget;
  return {
    monthStart: monthStart.toISO({ suppressMilliseconds: true }) ?? '',
    monthEnd: monthEnd.toISO({ suppressMilliseconds: true }) ?? '',
    monthToDateCost: input.monthToDateCost,
    burnRatePerDay,
    remainingDays,
    projectedMonthEndCost: projected,
    monthlyBudget: budget,
    projectedRatio,
    status: projectedRatio === null ? null : budgetStatus(projectedRatio, input.thresholds),
  };
}

// ---- trend, idle, cost per deployment ---------------------------------------------------------

export interface Trend {
  readonly current: number;
  readonly previous: number;
  readonly change: number;
  /** (current - previous) / previous; null when previous is 0. */
  readonly changeRatio: number | null;
  readonly direction: 'up' | 'down' | 'flat';
}

/** Week-over-week (or any period-over-period) trend; changes under 0.5% are flat. */
export function assessTrend(current: number, previous: number): Trend {
  const change = current - previous;
  const changeRatio = previous > 0 ? change / previous : null;
  const flat = changeRatio === null ? change === 0 : Math.abs(changeRatio) < 0.005;
  return { current, previous, change, changeRatio, direction: flat ? 'flat' : change > 0 ? 'up' : 'down' };
}

export interface IdleAssessment {
  readonly idle: boolean;
  /** CPU used / requested over the period (null when nothing is requested). */
  readonly cpuUtilisation: number | null;
  /** Cost if requests were set at usage (CPU and memory at their used amounts, storage unchanged). */
  readonly costAtUsage: number;
  /** Current cost minus cost at usage, over the period. */
  readonly savings: number;
}

/** A service is idle when its CPU use stayed under `cpuUtilisationBelow` of its request over the period. */
export function assessIdle(q: Quantities, pricing: Pricing): IdleAssessment {
  const line = priceQuantities(q, pricing);
  const costAtUsage = q.cpuUsed * pricing.cpuCoreHour + q.memoryUsed * pricing.memoryGiBHour + line.storageCost;
  const cpuUtilisation = ratio(q.cpuUsed, q.cpuRequested);
  return {
    idle: cpuUtilisation !== null && cpuUtilisation < pricing.idle.cpuUtilisationBelow,
    cpuUtilisation,
    costAtUsage,
    savings: Math.max(0, line.totalCost - costAtUsage),
  };
}

/** Team cost over a window divided by the rollouts started in it (null without rollouts). */
export function costPerDeployment(cost: number, rollouts: number): number | null {
  return rollouts > 0 ? cost / rollouts : null;
}
