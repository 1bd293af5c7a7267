/**
 * A de-duplicating, rate-limited work queue of object keys (the client-go workqueue model):
 * - `dirty`: keys waiting to be processed; adding a dirty key again is a no-op (de-duplication);
 * - `processing`: keys a worker holds; a key added while processing is re-queued when `done` is called,
 *   so at most one reconcile per key is ever in flight;
 * - `addAfter` schedules a key (the earliest schedule wins); `addRateLimited` schedules it after
 *   max(per-key exponential backoff with jitter, global token-bucket delay); `forget` resets the backoff.
 * Time and randomness are injectable for tests.
 */
import { DEFAULT_BACKOFF, TokenBucket, backoffDelay, type BackoffOptions } from './backoff.js';
import { capTimerDelay, systemClock, type Clock, type TimerHandle } from './clock.js';
import { kubeMetrics } from './metrics.js';

/** Options of a work queue. */
export interface WorkQueueOptions {
  /** Metric label; usually the controller name. */
  name: string;
  clock?: Clock;
  /** Returns [0, 1); used for backoff jitter. */
  random?: () => number;
  backoff?: Partial<BackoffOptions>;
  /** Global retry rate (token bucket refill per second). Default 10. 0 disables the bucket. */
  qps?: number;
  /** Token bucket size. Default 100. */
  burst?: number;
}

/** See the module header. */
export class WorkQueue {
  readonly name: string;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly backoff: BackoffOptions;
  private readonly bucket: TokenBucket;
  private ready: string[] = [];
  private head = 0;
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly enqueuedAt = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { at: number; handle: TimerHandle }>();
  private waiters: Array<(key: string | undefined) => void> = [];
  private idleWaiters: Array<() => void> = [];
  private shutting = false;

  constructor(opts: WorkQueueOptions) {
    this.name = opts.name;
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    this.backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
    this.bucket = new TokenBucket(opts.qps ?? 10, opts.burst ?? 100, this.clock);
  }

  /** Adds a key now (no-op when already waiting, or when shutting down). */
  add(key: string): void {
    if (this.shutting || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.enqueuedAt.set(key, this.clock.now());
    kubeMetrics.queueAdds.inc({ queue: this.name });
    if (this.processing.has(key)) return; // re-queued by done()
    this.push(key);
  }

  /** Adds a key after `delayMs`; if it is already scheduled earlier, the earlier time wins. */
  addAfter(key: string, requestedMs: number): void {
    if (this.shutting) return;
    // Capped: a pause of "600h" wakes after 24.8 days and re-plans, instead of overflowing to 1 ms.
    const delayMs = capTimerDelay(requestedMs);
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + delayMs;
    const existing = this.delayed.get(key);
    if (existing && existing.at <= at) return;
    if (existing) this.clock.clearTimeout(existing.handle);
    const handle = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.updateGauges();
      this.add(key);
    }, delayMs);
    this.delayed.set(key, { at, handle });
    this.updateGauges();
  }

  /** Re-adds a key after a failure: per-key exponential backoff with jitter, bounded by the global bucket. */
  addRateLimited(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = Math.max(backoffDelay(n, this.backoff, this.random), this.bucket.reserve());
    kubeMetrics.queueRetries.inc({ queue: this.name });
    this.addAfter(key, delay);
    return delay;
  }

  /** Clears the key's failure count (call after a success or a terminal outcome). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** How many times the key was re-added by `addRateLimited` since the last `forget`. */
  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /**
   * Takes the next key, waiting until one is ready. Resolves to undefined once the queue is shut down.
   * The caller must call `done(key)` when finished.
   */
  get(): Promise<string | undefined> {
    if (this.shutting) return Promise.resolve(undefined);
    const key = this.pop();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks a key finished; if it was added meanwhile it goes back to the ready list. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shutting) this.push(key);
    this.updateGauges();
    if (this.processing.size === 0) {
      const idle = this.idleWaiters;
      this.idleWaiters = [];
      idle.forEach((fn) => fn());
    }
  }

  /** Keys ready to be taken now. */
  len(): number {
    return this.ready.length - this.head;
  }

  /** Keys scheduled for later. */
  delayedCount(): number {
    return this.delayed.size;
  }

  /** Keys currently held by workers. */
  processingCount(): number {
    return this.processing.size;
  }

  /** True if the key is waiting (ready or dirty-while-processing). */
  isDirty(key: string): boolean {
    return this.dirty.has(key);
  }

  get shuttingDown(): boolean {
    return this.shutting;
  }

  /**
   * Stops the queue: no more adds, scheduled keys are dropped, waiting `get()` calls resolve to undefined.
   * Dropped keys are safe to lose: reconciles are level-triggered and the next start re-lists everything.
   */
  shutDown(): void {
    if (this.shutting) return;
    this.shutting = true;
    for (const { handle } of this.delayed.values()) this.clock.clearTimeout(handle);
    this.delayed.clear();
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((w) => w(undefined));
    this.updateGauges();
  }

  /** Resolves true once no key is processing, or false after `timeoutMs` (real time). */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.processing.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref?.();
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private push(key: string): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      this.take(key);
      waiter(key);
      return;
    }
    this.ready.push(key);
    this.updateGauges();
  }

  private pop(): string | undefined {
    if (this.head >= this.ready.length) return undefined;
    const key = this.ready[this.head++] as string;
    if (this.head > 1024 && this.head * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.head);
      this.head = 0;
    }
    this.take(key);
    return key;
  }

  private take(key: string): void {
    this.dirty.delete(key);
    this.processing.add(key);
    const at = this.enqueuedAt.get(key);
    this.enqueuedAt.delete(key);
    if (at !== undefined) kubeMetrics.queueLatency.observe({ queue: this.name }, Math.max(0, this.clock.now() - at) / 1000);
    this.updateGauges();
  }

  private updateGauges(): void {
    kubeMetrics.queueDepth.set({ queue: this.name }, this.len());
    kubeMetrics.queueWaiting.set({ queue: this.name }, this.delayed.size);
  }
}
