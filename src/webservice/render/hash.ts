/**
 * Deterministic short hashes of JSON values (stable key order), for the pod-template revision and the
 * config hash. Pure: the same value always gives the same hash.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../json/canonical.js';

/** A 10-character hex hash of a value (sha256 of its canonical JSON). */
export function shortHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 10);
}
