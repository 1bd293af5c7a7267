import { describe, expect, it } from 'vitest';
import { TtlCache } from '../../src/cost/cache.js';

describe('TtlCache', () => {
  it('is bounded, least recently used first', async () => {
    const c = new TtlCache<number>({ maxEntries: 2, ttlMs: 1000, nowMs: () => 0 });
    let loads = 0;
    const load = (v: number) => () => {
      loads++;
      return Promise.resolve(v);
    };
    await c.getOrLoad('a', load(1));
    await c.getOrLoad('b', load(2));
    await c.getOrLoad('a', load(1)); // a is now most recent
    await c.getOrLoad('c', load(3)); // evicts b
    expect(c.size).toBe(2);
    await c.getOrLoad('a', load(1));
    expect(loads).toBe(3);
    await c.getOrLoad('b', load(2));
    expect(loads).toBe(4);
  });

  it('expires entries and does not keep failures', async () => {
    let t = 0;
    const c = new TtlCache<number>({ maxEntries: 10, ttlMs: 100, nowMs: () => t });
    await c.getOrLoad('a', () => Promise.resolve(1));
    t = 150;
    expect(await c.getOrLoad('a', () => Promise.resolve(2))).toBe(2);
    await expect(c.getOrLoad('x', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await c.getOrLoad('x', () => Promise.resolve(3))).toBe(3);
  });

  it('shares an in-flight load', async () => {
    const c = new TtlCache<number>({ maxEntries: 10, ttlMs: 100 });
    let loads = 0;
    const slow = () => new Promise<number>((r) => setTimeout(() => r(++loads), 10));
    const [a, b] = await Promise.all([c.getOrLoad('k', slow), c.getOrLoad('k', slow)]);
    expect([a, b, loads]).toEqual([1, 1, 1]);
  });
});
