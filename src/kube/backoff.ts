/**
 * Retry timing (pure given clock and random): per-key exponential backoff with jitter, and a global
 * token bucket. The queue uses the larger of the two delays, like client-go's default controller
 * rate limiter (per-item exponential + overall bucket).
 */
import type { Clock } from './clock.js';

/** Per-key backoff: delay = min(max, base * 2^failures) stretched by up to `jitter` (0.2 = +20%). */
export interface BackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
  jitter: number;
}

/** 5 ms doubling up to 5 minutes, +0-20% jitter. */
export const DEFAULT_BACKOFF: BackoffOptions = { baseDelayMs: 5, maxDelayMs: 300_000, jitter: 0.2 };

/**
 * The delay before retry number `failures` (0 for the first retry). Always within
 * [min(max, base*2^n), min(max, base*2^n*(1+jitter))]; `random` returns a number in [0, 1).
 */
export function backoffDelay(failures: number, opts: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  // 2^n overflows to Infinity for large n; the cap makes that harmless.
  const exp = opts.baseDelayMs * Math.pow(2, Math.max(0, failures));
  const capped = Math.min(opts.maxDelayMs, exp);
  const jittered = capped * (1 + opts.jitter * random());
  return Math.min(opts.maxDelayMs, jittered);
}

/**
 * A token bucket of `burst` tokens refilled at `qps` per second. `reserve()` takes a token and
 * returns how long the caller must wait for it (0 when one is available), so callers never block.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.qps);
  }

  /** Reserves one token; returns the wait in ms before it may be used. */
  reserve(): number {
    if (this.qps <= 0) return 0;
    this.refill();
    this.tokens -= 1;
    if (this.tokens >= 0) return 0;
    return Math.ceil((-this.tokens / this.qps) * 1000);
  }
}
