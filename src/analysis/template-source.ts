/**
 * The analysis template lookup: resolves a delivery spec's template references (AnalysisTemplate in the
 * WebService's namespace, ClusterAnalysisTemplate) to the metrics to run, from the shared informer cache
 * (`lookup`), with the built-in templates of analysis-templates/ as the fallback for cluster-scoped names.
 * Never throws for a missing or invalid template: the step gets an error the rollout planner reports.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { InvalidSpecError, describeError } from '../errors.js';
import { parseTemplateSpec, resolveMetrics } from './templates.js';
import type { ResolvedMetric, TemplateRef, TemplateSpec } from './types.js';

/** The metrics of one analysis, or why they could not be resolved. */
export type ResolvedAnalysis = { readonly metrics: readonly ResolvedMetric[] } | { readonly error: string };

/** The shape of the steps `resolveSteps` reads (the delivery spec's). */
export interface StepsWithAnalysis {
  readonly steps: ReadonlyArray<object | { readonly analysis: { readonly templates: readonly TemplateRef[] } }>;
}

/** A template from an informer's cache (undefined: there is none). */
export type TemplateLookup = (kind: 'AnalysisTemplate' | 'ClusterAnalysisTemplate', namespace: string, name: string) => KubernetesObject | undefined;

/** Resolves analysis template references from the informer cache, with the built-in templates as fallback. */
export class TemplateSource {
  constructor(
    private readonly builtins: ReadonlyMap<string, TemplateSpec>,
    private readonly lookup: TemplateLookup,
  ) {}

  /** From the watch cache: always the current template (an edit counts from the next analysis). */
  private fetch(ref: TemplateRef, namespace: string): { spec: TemplateSpec | undefined; error?: string } {
    const kind = ref.clusterScope ? 'ClusterAnalysisTemplate' : 'AnalysisTemplate';
    let entry: { spec: TemplateSpec | undefined; error?: string };
    try {
      const obj: (KubernetesObject & { spec?: unknown }) | undefined = this.lookup(kind, namespace, ref.name);
      entry = { spec: obj ? parseTemplateSpec(obj.spec, `${kind}/${ref.name}`) : undefined };
    } catch (err) {
      if (!(err instanceof InvalidSpecError)) throw err;
      entry = { spec: undefined, error: err.message };
    }
    if (!entry.spec && !entry.error && ref.clusterScope) entry = { spec: this.builtins.get(ref.name) };
    return entry;
  }

  /** Resolves one list of references. Never throws for missing or invalid templates. */
  resolve(refs: readonly TemplateRef[], namespace: string, field: string): ResolvedAnalysis {
    try {
      const fetched = refs.map((r) => this.fetch(r, namespace));
      const invalid = fetched.find((f) => f.error);
      if (invalid?.error) return { error: invalid.error };
      return { metrics: resolveMetrics(refs, (r) => fetched[refs.indexOf(r)]?.spec, field) };
    } catch (err) {
      return { error: describeError(err) };
    }
  }

  /** The metrics of every analysis step of `spec`, by step index. Never throws for missing or invalid templates. */
  resolveSteps(spec: StepsWithAnalysis, namespace: string): Map<number, ResolvedAnalysis> {
    const out = new Map<number, ResolvedAnalysis>();
    for (const [i, step] of spec.steps.entries()) {
      if ('analysis' in step) out.set(i, this.resolve(step.analysis.templates, namespace, `spec.delivery.steps[${i}]`));
    }
    return out;
  }
}
