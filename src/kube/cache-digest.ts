/**
 * Long ConfigMap values are held in the informer caches as a digest of themselves. A WebService's
 * dashboard ConfigMap is about 10 KB of Grafana JSON, 40% of what its cached objects weigh, and nothing
 * reads it back: applyObject only compares it with the intent, which a digest answers as well.
 */
import { createHash } from 'node:crypto';

/** Shorter values stay as they are (a digest would save little). */
export const CACHE_DIGEST_MIN_LENGTH = 256;

/** NUL cannot start a value any paved renderer writes, so a digest is never mistaken for data. */
const PREFIX = '\u0000sha256:';

/** The cached stand-in of a long value. */
export function cacheDigest(value: string): string {
  return `${PREFIX}${createHash('sha256').update(value).digest('base64')}`;
}

/** Replaces (in place) every value of `data` at least CACHE_DIGEST_MIN_LENGTH long by its digest. */
export function digestLongValues(data: Record<string, unknown> | undefined): void {
  if (!data) return;
  for (const [k, v] of Object.entries(data)) {
    if (typeof v === 'string' && v.length >= CACHE_DIGEST_MIN_LENGTH) data[k] = cacheDigest(v);
  }
}

/** True when the live (possibly cached) value `live` is `desired`, or the digest of it. */
export function sameCachedString(desired: string, live: unknown): boolean {
  if (desired === live) return true;
  return typeof live === 'string' && live.startsWith(PREFIX) && desired.length >= CACHE_DIGEST_MIN_LENGTH && cacheDigest(desired) === live;
}
