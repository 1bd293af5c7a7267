import { describe, expect, it } from 'vitest';
import { DEFAULT_WARM_WINDOWS, startCostWarmer } from '../../src/cost/warm.js';
import type { WindowInput } from '../../src/cost/window.js';

function fakeCost(failWindow?: string) {
  const calls: Array<WindowInput | 'budgets'> = [];
  return {
    calls,
    cost: {
      allTeams: async (input: WindowInput) => {
        calls.push(input);
        if (input.window === failWindow) throw new Error('Prometheus is down');
        return {} as never;
      },
      budgets: async () => {
        calls.push('budgets');
        return [];
      },
    },
  };
}

describe('cost cache warmer', () => {
  it('refreshes the month and week reports and the budgets, once at start and on each pass', async () => {
    const { cost, calls } = fakeCost();
    const warmer = startCostWarmer({ cost, schedule: '0 0 1 1 *' });
    try {
      expect(await warmer.runOnce()).toBe(DEFAULT_WARM_WINDOWS.length + 1);
      // The pass at start and this one (they may interleave): each report twice.
      expect(calls.filter((c) => c === 'budgets')).toHaveLength(2);
      for (const w of DEFAULT_WARM_WINDOWS) expect(calls.filter((c) => c !== 'budgets' && c.window === w.window)).toHaveLength(2);
    } finally {
      await warmer.stop();
    }
  });

  it('never throws when a query fails, and counts only what it refreshed', async () => {
    const { cost } = fakeCost('30d');
    const warmer = startCostWarmer({ cost, schedule: '0 0 1 1 *' });
    try {
      expect(await warmer.runOnce()).toBe(DEFAULT_WARM_WINDOWS.length);
    } finally {
      await warmer.stop();
    }
  });

  it('rejects an invalid schedule with the expression in the message', () => {
    expect(() => startCostWarmer({ cost: fakeCost().cost, schedule: 'every minute' })).toThrow(/"every minute" is not a valid cron/);
  });
});
