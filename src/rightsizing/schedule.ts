/**
 * The engine's schedule: node-cron (default hourly), on the leader only, never overlapping itself
 * (node-cron's noOverlap, and the engine refuses a second concurrent run anyway). A bad expression
 * is an error naming the setting.
 */
import cron from 'node-cron';
import { InvalidSpecError } from '../errors.js';
import type { RightsizingEngine } from './engine.js';

export interface ScheduleOptions {
  /** A cron expression (default `0 * * * *`: hourly). */
  cron?: string;
  /** Runs only while this is true (the manager's leadership). */
  isLeader: () => boolean;
}

export interface RightsizingSchedule {
  stop(): Promise<void>;
}

export const DEFAULT_CRON = '0 * * * *';

/** Schedules `engine.run()` (see the module header). */
export function scheduleRightsizing(engine: Pick<RightsizingEngine, 'run'>, opts: ScheduleOptions): RightsizingSchedule {
  const expression = opts.cron ?? DEFAULT_CRON;
  if (!cron.validate(expression)) throw new InvalidSpecError('PAVED_RIGHTSIZING_CRON', `not a cron expression: ${JSON.stringify(expression)}`);
  const task = cron.schedule(
    expression,
    async () => {
      if (opts.isLeader()) await engine.run();
    },
    { noOverlap: true, name: 'paved-rightsizing' },
  );
  return {
    async stop() {
      await task.destroy();
    },
  };
}
