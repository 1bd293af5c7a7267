/**
 * Time as a dependency: the queue, backoff, informers and leader election take a Clock so that tests
 * drive time explicitly (FakeClock.advance) instead of sleeping.
 */

/** An opaque timer handle. */
export type TimerHandle = unknown;

/** The time source and timer facility of the runtime. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` after `ms` milliseconds; the timer must not keep the process alive. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The longest delay a Node timer takes: above 2^31-1 ms (about 24.8 days) setTimeout fires after 1 ms,
 * which turned a "600h" pause into hundreds of reconciles a second.
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** A delay a timer can hold: 0 for negative or NaN, at most MAX_TIMER_DELAY_MS. */
export function capTimerDelay(ms: number): number {
  if (!(ms > 0)) return 0;
  return Math.min(ms, MAX_TIMER_DELAY_MS);
}

/**
 * The real clock (timers are unref'd so a pending requeue never blocks process exit). Every delay is
 * capped; a later wake-up than 24.8 days is never needed (requeues re-plan, leases renew sooner).
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, capTimerDelay(ms));
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

interface FakeTimer {
  id: number;
  at: number;
  fn: () => void;
}

/** A manual clock for tests: timers fire only inside `advance`, in due order. */
export class FakeClock implements Clock {
  private current: number;
  private timers: FakeTimer[] = [];
  private nextId = 1;

  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    // Same cap as the system clock, so tests see what production does.
    const timer = { id: this.nextId++, at: this.current + capTimerDelay(ms), fn };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Number of timers not yet fired. */
  pendingTimers(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing every timer that becomes due (including ones they schedule). */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.current = Math.max(this.current, due.at);
      due.fn();
    }
    this.current = target;
  }
}
