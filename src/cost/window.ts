/**
 * Query windows: parse `window`+`step` or RFC 3339 `start`/`end`, validate them, and align them
 * so that every bucket is a whole number of model hours. Pure (the clock comes in as `now`).
 *
 * Alignment is what makes figures reproducible and cacheable: a window given as `30d` with a
 * daily step ends at today's UTC midnight (the running day is not complete and is left out);
 * with an hourly step it ends at the current whole hour. The same request in the same hour maps
 * to the same PromQL and the same cache key.
 */
import { DateTime, Duration } from 'luxon';
import { formatPromDuration } from '../kube/duration.js';
import { CostInputError } from './errors.js';

/** The model's resolution: requests and usage are taken per container and hour. */
export const RESOLUTION_SECONDS = 3600;
const DAY_SECONDS = 86_400;
/** Bounds that keep one request to a reasonable amount of Prometheus work. */
export const MAX_WINDOW_SECONDS = 400 * DAY_SECONDS;
export const MAX_BUCKETS = 1_000;

/** A validated, aligned window split into equal buckets `(start + k*step, start + (k+1)*step]`. */
export interface CostWindow {
  readonly start: DateTime;
  readonly end: DateTime;
  readonly stepSeconds: number;
}

export interface WindowInput {
  readonly window?: string | undefined;
  readonly step?: string | undefined;
  readonly start?: string | undefined;
  readonly end?: string | undefined;
}

const DURATION = /^([1-9][0-9]{0,5})([hdw])$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Parses `30d`, `12h`, `2w` into seconds; throws CostInputError naming `field`. */
export function parseDurationParam(value: string, field: string): number {
  const m = DURATION.exec(value.trim());
  if (!m) {
    throw new CostInputError(field, `"${value}" is not a duration like 12h, 30d or 2w (whole hours at least)`);
  }
  const n = Number(m[1]);
  const unit = m[2] === 'h' ? 'hours' : m[2] === 'd' ? 'days' : 'weeks';
  return Duration.fromObject({ [unit]: n }).as('seconds');
}

/** The last complete model hour at or before `now`. */
export function lastWholeHour(now: Date): DateTime {
  return DateTime.fromJSDate(now, { zone: 'utc' }).startOf('hour');
}

/**
 * Resolves the request's window. `defaults` applies when neither window nor start/end is given.
 * Errors name the offending query parameter.
 */
export function resolveWindow(
  input: WindowInput,
  now: Date,
  defaults: { window: string; step: string } = { window: '30d', step: '1d' },
): CostWindow {
  const explicit = input.start !== undefined || input.end !== undefined;
  if (explicit && input.window !== undefined) {
    throw new CostInputError('window', 'give either window or start/end, not both');
  }
  const latest = lastWholeHour(now);
  if (explicit) return resolveExplicit(input, latest, defaults.step);

  const windowSeconds = parseDurationParam(input.window ?? defaults.window, 'window');
  const stepSeconds = parseStep(input.step ?? defaultStep(windowSeconds, defaults), 'step');
  checkShape(windowSeconds, stepSeconds);
  // Day-sized steps give calendar (UTC) days; finer steps end at the last whole hour.
  const end = stepSeconds % DAY_SECONDS === 0 ? latest.startOf('day') : latest;
  return { start: end.minus({ seconds: windowSeconds }), end, stepSeconds };
}

function defaultStep(windowSeconds: number, defaults: { window: string; step: string }): string {
  const step = parseDurationParam(defaults.step, 'step');
  return windowSeconds % step === 0 ? defaults.step : '1h';
}

function parseStep(value: string, field: string): number {
  const seconds = parseDurationParam(value, field);
  if (seconds % RESOLUTION_SECONDS !== 0) {
    throw new CostInputError(field, 'step must be a whole number of hours');
  }
  return seconds;
}

function checkShape(windowSeconds: number, stepSeconds: number): void {
  if (windowSeconds > MAX_WINDOW_SECONDS) {
    throw new CostInputError('window', `window must be at most ${MAX_WINDOW_SECONDS / DAY_SECONDS}d`);
  }
  if (stepSeconds > windowSeconds) {
    throw new CostInputError('step', `step ${formatPromDuration(stepSeconds * 1000)} is longer than the window`);
  }
  if (windowSeconds % stepSeconds !== 0) {
    throw new CostInputError(
      'step',
      `step ${formatPromDuration(stepSeconds * 1000)} does not divide the window ${formatPromDuration(windowSeconds * 1000)}`,
    );
  }
  if (windowSeconds / stepSeconds > MAX_BUCKETS) {
    throw new CostInputError('step', `at most ${MAX_BUCKETS} steps per window; use a longer step`);
  }
}

function parseInstant(value: string | undefined, field: string): DateTime {
  if (value === undefined) throw new CostInputError(field, `${field} is required with ${field === 'start' ? 'end' : 'start'}`);
  const dt = DateTime.fromISO(value.trim(), { setZone: true });
  if (!RFC3339.test(value.trim()) || !dt.isValid) {
    throw new CostInputError(field, `"${value}" is not an RFC 3339 timestamp such as 2026-11-01T00:00:00Z`);
  }
  const utc = dt.toUTC();
  if (utc.toMillis() % (RESOLUTION_SECONDS * 1000) !== 0) {
    throw new CostInputError(field, `${field} must be on a whole hour`);
  }
  return utc;
}

function resolveExplicit(input: WindowInput, latest: DateTime, defaultStepText: string): CostWindow {
  const start = parseInstant(input.start, 'start');
  const end = parseInstant(input.end, 'end');
  if (end > latest) {
    throw new CostInputError('end', `end ${end.toISO()} is in the future or in the running hour (latest ${latest.toISO()})`);
  }
  if (end <= start) throw new CostInputError('end', 'end must be after start');
  const windowSeconds = end.diff(start).as('seconds');
  const stepText = input.step ?? (windowSeconds % parseStep(defaultStepText, 'step') === 0 ? defaultStepText : '1h');
  const stepSeconds = parseStep(stepText, 'step');
  checkShape(windowSeconds, stepSeconds);
  return { start, end, stepSeconds };
}

/** Ends of the buckets of a window, in order. */
export function bucketEnds(w: CostWindow): DateTime[] {
  const n = Math.round(w.end.diff(w.start).as('seconds') / w.stepSeconds);
  return Array.from({ length: n }, (_, k) => w.start.plus({ seconds: w.stepSeconds * (k + 1) }));
}

/** Length of a window in seconds. */
export function windowSeconds(w: CostWindow): number {
  return Math.round(w.end.diff(w.start).as('seconds'));
}
