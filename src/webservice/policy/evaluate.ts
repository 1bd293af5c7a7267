/**
 * Evaluates every policy rule on every object (pure). The result separates what blocks the apply
 * (enforced violations) from what is only counted (audited ones); both are reported with the policy, the
 * object and the field.
 */
import { describeObject, type RenderedObject } from '../render/workloads.js';
import { POLICY_RULES } from './rules.js';
import type { PolicyContext, PolicyMode, PolicyRule, Violation } from './types.js';

export interface PolicyResult {
  /** All violations, enforced and audited, in rule then object order. */
  violations: Violation[];
  enforced: Violation[];
  audited: Violation[];
  /** True when nothing enforced is violated: the objects may be applied. */
  allowed: boolean;
}

/** The mode of a rule under the configured overrides. */
export function modeOf(rule: PolicyRule, modes: Readonly<Record<string, PolicyMode>>): PolicyMode {
  return modes[rule.name] ?? rule.defaultMode;
}

export function evaluatePolicies(
  objects: readonly RenderedObject[],
  ctx: PolicyContext,
  modes: Readonly<Record<string, PolicyMode>> = {},
  rules: readonly PolicyRule[] = POLICY_RULES,
): PolicyResult {
  const violations: Violation[] = [];
  for (const rule of rules) {
    const mode = modeOf(rule, modes);
    for (const obj of objects) {
      for (const f of rule.check(obj, ctx)) {
        violations.push({ policy: rule.name, object: describeObject(obj), field: f.field, message: f.message, mode });
      }
    }
  }
  const enforced = violations.filter((v) => v.mode === 'enforce');
  return { violations, enforced, audited: violations.filter((v) => v.mode === 'audit'), allowed: enforced.length === 0 };
}

/** One line per violation, for conditions and Events. */
export function formatViolations(violations: readonly Violation[], max = 5): string {
  const lines = violations.slice(0, max).map((v) => `${v.policy}: ${v.object} ${v.field}: ${v.message}`);
  if (violations.length > max) lines.push(`... and ${violations.length - max} more`);
  return lines.join('; ');
}
