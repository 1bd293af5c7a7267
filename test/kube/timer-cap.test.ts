/**
 * The timer cap: delays above 2^31-1 ms (about 24.8 days) make Node's setTimeout fire after 1 ms, so a
 * "600h" pause used to requeue in a tight loop. Every delay the runtime schedules is capped.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock, MAX_TIMER_DELAY_MS, capTimerDelay, systemClock, type Clock } from '../../src/kube/clock.js';
import { WorkQueue } from '../../src/kube/work-queue.js';

const HOURS_600 = 600 * 3_600_000;

describe('capTimerDelay', () => {
  it('keeps delays a timer can hold, caps longer ones, and zeroes negative or NaN ones', () => {
    expect(capTimerDelay(1_500)).toBe(1_500);
    expect(capTimerDelay(MAX_TIMER_DELAY_MS)).toBe(MAX_TIMER_DELAY_MS);
    expect(capTimerDelay(HOURS_600)).toBe(MAX_TIMER_DELAY_MS);
    expect(capTimerDelay(Number.POSITIVE_INFINITY)).toBe(MAX_TIMER_DELAY_MS);
    expect(capTimerDelay(-5)).toBe(0);
    expect(capTimerDelay(Number.NaN)).toBe(0);
  });
});

describe('the queue never hands a timer more than it can hold', () => {
  it('addAfter(600h) schedules at most 2^31-1 ms and the key is not ready before then', () => {
    const fake = new FakeClock();
    const asked: number[] = [];
    const recording: Clock = { now: () => fake.now(), setTimeout: (fn, ms) => (asked.push(ms), fake.setTimeout(fn, ms)), clearTimeout: (h) => fake.clearTimeout(h) };
    const q = new WorkQueue({ name: 'cap', clock: recording });
    q.addAfter('ns/long', HOURS_600);
    expect(asked).toEqual([MAX_TIMER_DELAY_MS]);
    fake.advance(60_000);
    expect(q.len()).toBe(0);
    fake.advance(MAX_TIMER_DELAY_MS);
    expect(q.len()).toBe(1);
    q.shutDown();
  });

  it('the system clock does not fire a 600h timer after 1 ms (what an overflowing setTimeout does)', async () => {
    let fired = false;
    const handle = systemClock.setTimeout(() => (fired = true), HOURS_600);
    await new Promise((r) => setTimeout(r, 50));
    systemClock.clearTimeout(handle);
    expect(fired).toBe(false);
  });
});
