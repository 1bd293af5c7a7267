/**
 * Canonical JSON (pure): object keys sorted at every level, so equal values give equal text whatever
 * order their keys were written in. The one helper behind the pod-template and config hashes
 * (src/webservice/render/hash.ts), the applied-intent hash (src/kube/apply.ts) and status equality
 * (src/kube/status.ts).
 */

/**
 * JSON with object keys sorted at every level. `leaf` (optional) maps each value first, as a
 * JSON.stringify replacer does after `toJSON` (so a Date arrives as its ISO string): returning
 * undefined drops an object's key (and writes null in an array).
 */
export function canonicalJson(value: unknown, leaf?: (v: unknown) => unknown): string {
  return JSON.stringify(value, (_key, raw: unknown) => {
    const v = leaf ? leaf(raw) : raw;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}
