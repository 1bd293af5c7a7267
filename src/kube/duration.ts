/**
 * PromQL durations (pure), the one formatter of the tree: analysis windows and the cost routes' ranges
 * and steps are both written with it.
 */

const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['w', 7 * 86_400_000],
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** Formats milliseconds as the shortest whole-unit PromQL duration: 604800000 -> "1w", 90000 -> "90s", 1500 -> "1500ms". */
export function formatPromDuration(ms: number): string {
  const whole = Math.round(ms);
  if (whole === 0) return '0s';
  for (const [unit, size] of UNITS) if (whole % size === 0) return `${whole / size}${unit}`;
  return `${whole}ms`;
}
