/**
 * Policy vocabulary. A rule is defined once (its check over rendered objects, and, where CEL can say it,
 * the same rule as a ValidatingAdmissionPolicy expression) and has a mode: `enforce` refuses the render,
 * `audit` only counts (metric and API), so a new rule can be measured before it is enforced.
 */
import type { RenderedObject } from '../render/workloads.js';

export type PolicyMode = 'enforce' | 'audit';

/** One broken rule: which policy, which object (`Kind/name`), which field, and why. */
export interface Violation {
  policy: string;
  object: string;
  field: string;
  message: string;
  mode: PolicyMode;
}

/** A finding of a check, before the mode is known. */
export type Finding = Omit<Violation, 'policy' | 'mode' | 'object'>;

/** What the checks may need besides the object. */
export interface PolicyContext {
  /** The WebService's namespace: every object must live there. */
  namespace: string;
  /** Allowed image registries (prefixes); empty allows any. */
  allowedRegistries: readonly string[];
  /** Who else controls the live object of this name, if anyone (no-foreign-objects rule). */
  foreignOwner?: (obj: RenderedObject) => string | undefined;
  /** Host ownership (host-ownership rule); absent: not checked. */
  hosts?: {
    /** The team's declared domains; empty or absent: any domain. */
    domains?: readonly string[];
    /** The other team that already serves `host`, if any. */
    servedBy?: (host: string) => string | undefined;
  };
}

/**
 * The same rule as CEL, for the admission policies. Expressions see `object` and the variables
 * `podSpec`, `podMeta` and `containers` (all containers, init and ephemeral included).
 */
export interface AdmissionRule {
  expression: string;
  message: string;
}

export interface PolicyRule {
  /** kebab-case name, stable: it appears in conditions, metrics and the API. */
  name: string;
  description: string;
  defaultMode: PolicyMode;
  check(obj: RenderedObject, ctx: PolicyContext): Finding[];
  /** The CEL form of the rule, when there is one. */
  admission?: readonly AdmissionRule[];
}
