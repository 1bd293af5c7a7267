/**
 * The apply window (pure, luxon): an apply may start only on the listed weekdays between start
 * (inclusive) and end (exclusive), local time in the window's timezone, so nothing restarts at night
 * or on a weekend. An unknown timezone is an error naming the field.
 */
import { DateTime } from 'luxon';
import { InvalidSpecError } from '../errors.js';
import type { ApplyWindow } from './types.js';

const minutesOf = (hhmm: string, field: string): number => {
  const m = /^(\d{2}):(\d{2})$/.exec(hhmm);
  if (!m) throw new InvalidSpecError(field, `must be HH:mm, got ${JSON.stringify(hhmm)}`);
  return Number(m[1]) * 60 + Number(m[2]);
};

/** Whether `at` is inside the window. */
export function isInApplyWindow(window: ApplyWindow, at: Date, field = 'spec.rightsizing.applyWindow'): boolean {
  const local = DateTime.fromJSDate(at, { zone: window.timezone });
  if (!local.isValid) throw new InvalidSpecError(`${field}.timezone`, `unknown timezone ${JSON.stringify(window.timezone)}`);
  if (!window.days.includes(local.weekday)) return false;
  const minute = local.hour * 60 + local.minute;
  return minute >= minutesOf(window.start, `${field}.start`) && minute < minutesOf(window.end, `${field}.end`);
}
