/**
 * Renders a metric's PromQL template. Placeholders are {{namespace}}, {{service}}, {{track}},
 * {{revision}} and {{interval}}; values are escaped for use inside a double-quoted PromQL label
 * matcher, so a name can never change the shape of the query. Pure.
 */
import { InvalidSpecError } from '../errors.js';

export interface QueryVars {
  readonly namespace: string;
  readonly service: string;
  readonly track: 'canary' | 'stable';
  readonly revision: string;
  /** A PromQL range such as "30s" (the metric's window, or its interval). */
  readonly interval: string;
}

const PLACEHOLDER = /\{\{\s*([a-zA-Z]+)\s*\}\}/g;

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Returns the query with every placeholder replaced; an unknown placeholder is an InvalidSpecError. */
export function renderQuery(template: string, vars: QueryVars, field = 'query'): string {
  return template.replace(PLACEHOLDER, (_, key: string) => {
    if (!Object.hasOwn(vars, key)) {
      throw new InvalidSpecError(field, `unknown placeholder {{${key}}}`);
    }
    const value = vars[key as keyof QueryVars];
    return key === 'interval' ? value : escapeLabelValue(value);
  });
}
