import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/kube/clock.js';
import { WorkQueue } from '../../src/kube/work-queue.js';
import { TokenBucket, backoffDelay } from '../../src/kube/backoff.js';

const noJitter = () => 0;

function queue(clock = new FakeClock(), extra: Partial<ConstructorParameters<typeof WorkQueue>[0]> = {}) {
  return new WorkQueue({ name: 'test', clock, random: noJitter, qps: 0, ...extra });
}

describe('WorkQueue', () => {
  it('de-duplicates keys that are waiting', async () => {
    const q = queue();
    q.add('ns/a');
    q.add('ns/a');
    q.add('ns/b');
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('ns/a');
    expect(await q.get()).toBe('ns/b');
    expect(q.len()).toBe(0);
  });

  it('keeps at most one reconcile in flight per key: a key added while processing waits for done()', async () => {
    const q = queue();
    q.add('k');
    const key = await q.get();
    expect(key).toBe('k');
    q.add('k'); // arrives while processing
    q.add('k'); // and again: still one pending
    expect(q.len()).toBe(0); // not handed to a second worker
    expect(q.isDirty('k')).toBe(true);
    q.done('k');
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('k');
    q.done('k');
    expect(q.len()).toBe(0);
  });

  it('hands a key to a waiting get()', async () => {
    const q = queue();
    const pending = q.get();
    q.add('x');
    await expect(pending).resolves.toBe('x');
  });

  it('addAfter schedules a key on the clock, the earliest schedule wins', async () => {
    const clock = new FakeClock();
    const q = queue(clock);
    q.addAfter('k', 1000);
    q.addAfter('k', 5000); // later: ignored
    expect(q.delayedCount()).toBe(1);
    clock.advance(999);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(q.len()).toBe(1);
    expect(q.delayedCount()).toBe(0);
    q.addAfter('j', 5000);
    q.addAfter('j', 100); // earlier: replaces
    clock.advance(100);
    expect(q.len()).toBe(2);
  });

  it('backs off exponentially per key and forget() resets it', () => {
    const clock = new FakeClock();
    const q = queue(clock, { backoff: { baseDelayMs: 10, maxDelayMs: 1000, jitter: 0 } });
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map(() => q.addRateLimited('k'));
    expect(delays).toEqual([10, 20, 40, 80, 160, 320, 640, 1000]);
    expect(q.numRequeues('k')).toBe(8);
    expect(q.addRateLimited('other')).toBe(10); // per key
    q.forget('k');
    expect(q.numRequeues('k')).toBe(0);
    expect(q.addRateLimited('k')).toBe(10);
  });

  it('applies jitter within bounds', () => {
    const opts = { baseDelayMs: 100, maxDelayMs: 60_000, jitter: 0.2 };
    let seed = 42;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return (seed - 1) / 2147483646;
    };
    for (let n = 0; n < 20; n++) {
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(n, opts, random);
        const base = Math.min(opts.maxDelayMs, 100 * 2 ** n);
        expect(d).toBeGreaterThanOrEqual(base);
        expect(d).toBeLessThanOrEqual(Math.min(opts.maxDelayMs, base * 1.2));
      }
    }
    expect(backoffDelay(3, opts, () => 0.999999)).toBeCloseTo(960, 0);
    expect(backoffDelay(3, opts, () => 0)).toBe(800);
    expect(backoffDelay(5000, opts, () => 0.5)).toBe(60_000); // no overflow
  });

  it('bounds retries by a global token bucket', () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ name: 'rl', clock, random: noJitter, backoff: { baseDelayMs: 1, maxDelayMs: 1, jitter: 0 }, qps: 10, burst: 3 });
    // Burst of 3 passes with the per-key delay; then each further retry waits for a token (100 ms apart).
    const delays = ['a', 'b', 'c', 'd', 'e', 'f'].map((k) => q.addRateLimited(k));
    expect(delays).toEqual([1, 1, 1, 100, 200, 300]);
    clock.advance(1);
    expect(q.len()).toBe(3);
    clock.advance(99);
    expect(q.len()).toBe(4);
    clock.advance(200);
    expect(q.len()).toBe(6);
  });

  it('token bucket refills at qps up to burst', () => {
    const clock = new FakeClock();
    const b = new TokenBucket(2, 2, clock);
    expect([b.reserve(), b.reserve(), b.reserve()]).toEqual([0, 0, 500]);
    clock.advance(10_000);
    expect([b.reserve(), b.reserve(), b.reserve()]).toEqual([0, 0, 500]);
  });

  it('shutDown releases waiting workers, drops scheduled keys and ignores new adds', async () => {
    const clock = new FakeClock();
    const q = queue(clock);
    const waiting = q.get();
    q.addAfter('later', 1000);
    q.shutDown();
    await expect(waiting).resolves.toBeUndefined();
    expect(clock.pendingTimers()).toBe(0);
    q.add('x');
    expect(q.len()).toBe(0);
    await expect(q.get()).resolves.toBeUndefined();
  });

  it('drain waits for in-flight keys, bounded by a timeout', async () => {
    const q = queue();
    q.add('a');
    await q.get();
    q.shutDown();
    expect(await q.drain(20)).toBe(false);
    const drained = q.drain(5_000);
    q.done('a');
    expect(await drained).toBe(true);
  });
});
