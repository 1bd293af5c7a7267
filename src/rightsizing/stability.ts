/**
 * The stability rule (pure): a recommendation may be applied only when the daily values of the last
 * `stableDays` days all stayed within `tolerance` of it (consecutive, ending today: a gap or a day out
 * of tolerance restarts the count) and it differs from the current request by more than
 * `changeThreshold`. Both resources are judged together: a container is stable when each recommended
 * resource is.
 */
import type { DailyValue, Requests, StabilityPolicy } from './types.js';

/** How many consecutive days, ending at the newest, stayed within tolerance of `value`. */
export function stableDaysOf(daily: readonly DailyValue[], value: number | undefined, pick: (d: DailyValue) => number | undefined, tolerance: number): number {
  if (value === undefined) return Number.POSITIVE_INFINITY; // not recommended: never the limiting resource
  const sorted = [...daily].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  let n = 0;
  let expected: string | undefined;
  for (let i = sorted.length - 1; i >= 0; i--) {
    const d = sorted[i]!;
    if (expected !== undefined && d.day !== expected) break; // a missing day breaks the run
    const v = pick(d);
    if (v === undefined || value <= 0 || Math.abs(v - value) / value > tolerance + 1e-12) break;
    n += 1;
    expected = previousDay(d.day);
  }
  return n;
}

/** The ISO date of the day before `day` (YYYY-MM-DD, UTC). */
export function previousDay(day: string): string {
  const t = Date.parse(`${day}T00:00:00Z`) - 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

/** The stability verdict of one container. */
export interface StabilityVerdict {
  /** Consecutive stable days (the smaller of CPU's and memory's). */
  stableDays: number;
  stable: boolean;
  /** The recommendation differs from the current request by more than the threshold. */
  differs: boolean;
}

const relChange = (rec: number | undefined, cur: number | undefined): number =>
  rec === undefined || cur === undefined || cur <= 0 ? 0 : Math.abs(rec - cur) / cur;

/** Judges one container (see the module header). */
export function assessStability(
  policy: StabilityPolicy,
  recommended: Partial<Requests>,
  current: Partial<Requests>,
  daily: readonly DailyValue[],
): StabilityVerdict {
  const cpu = stableDaysOf(daily, recommended.cpu, (d) => d.cpu, policy.tolerance);
  const memory = stableDaysOf(daily, recommended.memory, (d) => d.memory, policy.tolerance);
  const stableDays = Math.min(cpu, memory);
  const finite = Number.isFinite(stableDays) ? stableDays : 0;
  const differs = Math.max(relChange(recommended.cpu, current.cpu), relChange(recommended.memory, current.memory)) > policy.changeThreshold;
  return { stableDays: finite, stable: finite >= policy.stableDays, differs };
}
