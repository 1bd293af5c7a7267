/**
 * A small bounded cache with a time to live, for query results. Least recently used entries go
 * first when it is full; expired entries are dropped when touched. In-flight loads are shared,
 * so concurrent identical requests cost one Prometheus query.
 */

export interface TtlCacheOptions {
  readonly maxEntries: number;
  readonly ttlMs: number;
  /** Injectable clock (milliseconds). */
  readonly nowMs?: () => number;
}

interface Entry<V> {
  readonly value: Promise<V>;
  readonly expiresAt: number;
}

export class TtlCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly nowMs: () => number;
  hits = 0;
  misses = 0;

  constructor(private readonly options: TtlCacheOptions) {
    this.nowMs = options.nowMs ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Returns the cached value of `key`, or loads it; a failed load is not cached. */
  getOrLoad(key: string, load: () => Promise<V>): Promise<V> {
    const now = this.nowMs();
    const found = this.entries.get(key);
    if (found && found.expiresAt > now) {
      this.entries.delete(key); // re-insert: most recently used goes last
      this.entries.set(key, found);
      this.hits++;
      return found.value;
    }
    if (found) this.entries.delete(key);
    this.misses++;
    const value = load();
    this.entries.set(key, { value, expiresAt: now + this.options.ttlMs });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    this.evict();
    return value;
  }

  clear(): void {
    this.entries.clear();
  }

  private evict(): void {
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) return;
      this.entries.delete(oldest.value);
    }
  }
}
