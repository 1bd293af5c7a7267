/**
 * Go-style durations as the CRDs write them ("30s", "1m30s", "500ms"), converted to milliseconds
 * and back to the PromQL range form (src/kube/duration.ts). Pure.
 */
import { InvalidSpecError } from '../errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses "1m30s" into 90000. Throws InvalidSpecError (naming `field`) on anything else. */
export function parseDuration(text: string, field = 'duration'): number {
  const parts = [...text.matchAll(/([0-9]+)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new InvalidSpecError(field, `"${text}" is not a duration such as 30s, 1m or 1m30s`);
  }
  return parts.reduce((sum, p) => sum + Number(p[1]) * (UNIT_MS[p[2] as string] ?? 0), 0);
}

/** Formats milliseconds as a PromQL range (one formatter for the tree, in src/kube). */
export { formatPromDuration } from '../kube/duration.js';
