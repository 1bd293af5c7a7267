/**
 * Deterministic short hashes of JSON values (stable key order), for the pod-template revision and the
 * config hash. Pure: the same value always gives the same hash.
 */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}

/** A 10-character hex hash of a value (sha256 of its canonical JSON). */
export function shortHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 10);
}
