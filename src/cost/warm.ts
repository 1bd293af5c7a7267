/**
 * Keeps the cost cache warm for the windows finance and team leads open most, so they never wait
 * for a cold 30-day query (tens of seconds over a month of per-container data). A node-cron schedule
 * re-runs the all-teams reports shortly before the cache entries expire; every replica warms its own
 * cache because any replica may answer the API.
 */
import { schedule, validate, type ScheduledTask } from 'node-cron';
import type { Logger } from '../log.js';
import { describeError } from '../errors.js';
import type { CostService } from './service.js';
import type { WindowInput } from './window.js';

/** The reports kept warm by default: the dashboards' month and week by day. */
export const DEFAULT_WARM_WINDOWS: readonly WindowInput[] = [
  { window: '30d', step: '1d' },
  { window: '7d', step: '1d' },
];

export interface CostWarmerOptions {
  readonly cost: Pick<CostService, 'allTeams' | 'budgets'>;
  /** Cron expression (default every 4 minutes: inside the 5-minute cache TTL). */
  readonly schedule?: string;
  readonly windows?: readonly WindowInput[];
  readonly logger?: Logger;
}

export interface CostWarmer {
  /** One warming pass now; resolves with how many reports were refreshed. Never throws. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

/** Validates the schedule, runs a first pass, and schedules the next ones (no overlapping passes). */
export function startCostWarmer(opts: CostWarmerOptions): CostWarmer {
  const expression = opts.schedule ?? '*/4 * * * *';
  if (!validate(expression)) throw new Error(`cost cache warmer: "${expression}" is not a valid cron expression`);
  const windows = opts.windows ?? DEFAULT_WARM_WINDOWS;
  const runOnce = async (): Promise<number> => {
    let refreshed = 0;
    for (const input of windows) {
      try {
        await opts.cost.allTeams(input);
        refreshed++;
      } catch (err) {
        opts.logger?.warn({ window: input, err: describeError(err) }, 'cost cache warm-up failed; the next request computes it');
      }
    }
    try {
      await opts.cost.budgets();
      refreshed++;
    } catch (err) {
      opts.logger?.warn({ err: describeError(err) }, 'budget warm-up failed');
    }
    return refreshed;
  };
  const task: ScheduledTask = schedule(expression, () => runOnce(), { name: 'cost-cache-warmer', noOverlap: true });
  void runOnce();
  return { runOnce, stop: async () => { await task.stop(); await task.destroy(); } };
}
