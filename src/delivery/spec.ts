/**
 * Normalizes a WebService's `spec.delivery` into the planner's DeliverySpec: durations in ms, the
 * default steps `10 -> analysis -> 50 -> analysis -> 100` when none are given, and analysis steps
 * without templates filled in from `delivery.analysis.templates` (or the built-in error-rate and
 * latency-p99 ClusterAnalysisTemplates). With explicit steps, `delivery.analysis` is also a background
 * analysis measured from `startingStep` until promotion. Pure.
 */
import { DEFAULT_ADVANCE_RULE } from '../analysis/assess.js';
import { parseDuration } from '../analysis/duration.js';
import { InvalidSpecError } from '../errors.js';
import { DEFAULT_TEMPLATE_REFS } from '../analysis/templates.js';
import type { TemplateRef } from '../analysis/types.js';
import type { DeliverySpec, Step } from './types.js';

/** The subset of `spec.delivery` of the WebService CRD that delivery reads. */
export interface DeliverySpecInput {
  steps?: Array<{
    setWeight?: number;
    pause?: { duration?: string };
    analysis?: { templates?: Array<{ templateName: string; clusterScope?: boolean }> };
  }>;
  analysis?: { templates?: Array<{ templateName: string; clusterScope?: boolean }>; startingStep?: number };
  progressDeadlineSeconds?: number;
  scaleDownDelaySeconds?: number;
  advanceRule?: string;
}

export const DEFAULT_WEIGHTS = [10, 50, 100] as const;

function refs(list: Array<{ templateName: string; clusterScope?: boolean }> | undefined): TemplateRef[] | undefined {
  if (!list || list.length === 0) return undefined;
  return list.map((t) => ({ name: t.templateName, clusterScope: t.clusterScope ?? false }));
}

/** The steps: the default weights with an analysis after each below 100, or the given ones with defaults filled in. */
function normalizeSteps(input: DeliverySpecInput['steps'], defaultTemplates: readonly TemplateRef[]): Step[] {
  if (!input || input.length === 0) {
    return DEFAULT_WEIGHTS.flatMap((w): Step[] => (w < 100 ? [{ setWeight: w }, { analysis: { templates: defaultTemplates } }] : [{ setWeight: w }]));
  }
  return input.map((s, i): Step => {
    if (s.setWeight !== undefined) return { setWeight: s.setWeight };
    if (s.pause !== undefined) {
      const duration = s.pause.duration;
      return duration === undefined
        ? { pause: {} }
        : { pause: { durationMs: parseDuration(duration, `spec.delivery.steps[${i}].pause.duration`) } };
    }
    return { analysis: { templates: refs(s.analysis?.templates) ?? defaultTemplates } };
  });
}

/** Applies the delivery defaults. Throws InvalidSpecError for an unparsable pause duration or an unknown advanceRule. */
export function normalizeDelivery(input: DeliverySpecInput | undefined): DeliverySpec {
  const d = input ?? {};
  const defaultTemplates = refs(d.analysis?.templates) ?? DEFAULT_TEMPLATE_REFS;
  const steps = normalizeSteps(d.steps, defaultTemplates);
  // With explicit steps, delivery.analysis also runs in the background during the whole rollout.
  const background =
    d.steps && d.steps.length > 0 && refs(d.analysis?.templates)
      ? { templates: refs(d.analysis?.templates) as TemplateRef[], startingStep: d.analysis?.startingStep ?? 0 }
      : undefined;
  const rule = d.advanceRule ?? DEFAULT_ADVANCE_RULE;
  if (rule !== 'RequireLatestSuccess' && rule !== 'WithinLimits') {
    throw new InvalidSpecError('spec.delivery.advanceRule', `"${rule}" is not one of RequireLatestSuccess, WithinLimits`);
  }
  return {
    steps,
    ...(background ? { background } : {}),
    advanceRule: rule,
    progressDeadlineMs: (d.progressDeadlineSeconds ?? 600) * 1000,
    scaleDownDelayMs: (d.scaleDownDelaySeconds ?? 30) * 1000,
  };
}
