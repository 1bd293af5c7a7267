/** The schedule: node-cron, leader only, never overlapping itself; a bad expression names the setting. */
import { describe, expect, it } from 'vitest';
import { scheduleRightsizing } from '../../src/rightsizing/schedule.js';
import { eventually } from '../support/eventually.js';

describe('scheduleRightsizing', () => {
  it('refuses a bad cron expression, naming the setting', () => {
    expect(() => scheduleRightsizing({ run: async () => ({ outcome: 'idle', services: 0, written: 0, queries: 0 }) }, { cron: 'every hour', isLeader: () => true })).toThrow(/PAVED_RIGHTSIZING_CRON/);
  });

  it('runs on the leader only, and a slow run never overlaps the next tick', async () => {
    let leader = false;
    let running = 0;
    let most = 0;
    let runs = 0;
    const engine = {
      run: async () => {
        running += 1;
        most = Math.max(most, running);
        runs += 1;
        await new Promise((r) => setTimeout(r, 2_500)); // longer than the 1 s period
        running -= 1;
        return { outcome: 'completed' as const, services: 0, written: 0, queries: 0 };
      },
    };
    const s = scheduleRightsizing(engine, { cron: '* * * * * *', isLeader: () => leader });
    try {
      await new Promise((r) => setTimeout(r, 2_200));
      expect(runs).toBe(0); // not the leader: no run
      leader = true;
      await eventually(() => expect(runs).toBeGreaterThanOrEqual(2), { timeoutMs: 15_000, intervalMs: 200 });
      expect(most).toBe(1);
    } finally {
      await s.stop();
    }
  }, 30_000);
});
