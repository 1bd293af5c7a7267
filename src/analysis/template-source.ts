/**
 * The analysis template lookup: resolves a delivery spec's template references (AnalysisTemplate in the
 * WebService's namespace, ClusterAnalysisTemplate) to the metrics to run, with a short cache and the
 * built-in templates of analysis-templates/ as the fallback for cluster-scoped names. Never throws for a
 * missing or invalid template or an API failure: the step gets an error the rollout planner reports.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { InvalidSpecError, describeError } from '../errors.js';
import { isNotFound, type KubeClients } from '../kube/index.js';
import { ANALYSIS_API_VERSION, parseTemplateSpec, resolveMetrics } from './templates.js';
import type { ResolvedMetric, TemplateRef, TemplateSpec } from './types.js';

/** The metrics of one analysis, or why they could not be resolved. */
export type ResolvedAnalysis = { readonly metrics: readonly ResolvedMetric[] } | { readonly error: string };

/** The shape of the steps `resolveSteps` reads (the delivery spec's). */
export interface StepsWithAnalysis {
  readonly steps: ReadonlyArray<object | { readonly analysis: { readonly templates: readonly TemplateRef[] } }>;
}

/** A template from an informer's cache (undefined: there is none). */
export type TemplateLookup = (kind: 'AnalysisTemplate' | 'ClusterAnalysisTemplate', namespace: string, name: string) => KubernetesObject | undefined;

/** How templates are read: from a cache kept by watches (`lookup`), else by API reads kept for `ttlMs`. */
export interface TemplateSourceOptions {
  readonly lookup?: TemplateLookup;
  readonly ttlMs?: number;
  readonly now?: () => number;
}

/** Resolves analysis template references, from the informer cache or a short cache, with the built-in templates as fallback. */
export class TemplateSource {
  private readonly cache = new Map<string, { at: number; spec: TemplateSpec | undefined; error?: string }>();
  private readonly lookup: TemplateLookup | undefined;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly clients: KubeClients,
    private readonly builtins: ReadonlyMap<string, TemplateSpec>,
    options: TemplateSourceOptions | number = {},
  ) {
    const o = typeof options === 'number' ? { ttlMs: options } : options;
    this.lookup = o.lookup;
    this.ttlMs = o.ttlMs ?? 5_000;
    this.now = o.now ?? Date.now;
  }

  /** From the watch cache: always the current template (an edit counts from the next analysis). */
  private fromCache(lookup: TemplateLookup, ref: TemplateRef, namespace: string): { spec: TemplateSpec | undefined; error?: string } {
    const kind = ref.clusterScope ? 'ClusterAnalysisTemplate' : 'AnalysisTemplate';
    let entry: { spec: TemplateSpec | undefined; error?: string };
    try {
      const obj: (KubernetesObject & { spec?: unknown }) | undefined = lookup(kind, namespace, ref.name);
      entry = { spec: obj ? parseTemplateSpec(obj.spec, `${kind}/${ref.name}`) : undefined };
    } catch (err) {
      if (!(err instanceof InvalidSpecError)) throw err;
      entry = { spec: undefined, error: err.message };
    }
    if (!entry.spec && !entry.error && ref.clusterScope) entry = { spec: this.builtins.get(ref.name) };
    return entry;
  }

  private async fetch(ref: TemplateRef, namespace: string): Promise<{ spec: TemplateSpec | undefined; error?: string }> {
    if (this.lookup) return this.fromCache(this.lookup, ref, namespace);
    const kind = ref.clusterScope ? 'ClusterAnalysisTemplate' : 'AnalysisTemplate';
    const key = `${kind}/${ref.clusterScope ? '' : namespace}/${ref.name}`;
    const hit = this.cache.get(key);
    if (hit && this.now() - hit.at < this.ttlMs) return hit;
    let entry: { spec: TemplateSpec | undefined; error?: string };
    try {
      const obj = await this.clients.get<KubernetesObject & { spec?: unknown }>({
        apiVersion: ANALYSIS_API_VERSION,
        kind,
        name: ref.name,
        ...(ref.clusterScope ? {} : { namespace }),
      });
      entry = { spec: obj ? parseTemplateSpec(obj.spec, `${kind}/${ref.name}`) : undefined };
    } catch (err) {
      if (err instanceof InvalidSpecError) entry = { spec: undefined, error: err.message };
      else if (isNotFound(err)) entry = { spec: undefined };
      else throw err;
    }
    if (!entry.spec && !entry.error && ref.clusterScope) entry = { spec: this.builtins.get(ref.name) };
    this.cache.set(key, { ...entry, at: this.now() });
    if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value as string);
    return entry;
  }

  /** Resolves one list of references. Never throws for missing or invalid templates. */
  async resolve(refs: readonly TemplateRef[], namespace: string, field: string): Promise<ResolvedAnalysis> {
    try {
      const fetched = await Promise.all(refs.map((r) => this.fetch(r, namespace)));
      const invalid = fetched.find((f) => f.error);
      if (invalid?.error) return { error: invalid.error };
      return { metrics: resolveMetrics(refs, (r) => fetched[refs.indexOf(r)]?.spec, field) };
    } catch (err) {
      return { error: describeError(err) };
    }
  }

  /** The metrics of every analysis step of `spec`, by step index. Never throws for missing or invalid templates. */
  async resolveSteps(spec: StepsWithAnalysis, namespace: string): Promise<Map<number, ResolvedAnalysis>> {
    const out = new Map<number, ResolvedAnalysis>();
    for (const [i, step] of spec.steps.entries()) {
      if ('analysis' in step) out.set(i, await this.resolve(step.analysis.templates, namespace, `spec.delivery.steps[${i}]`));
    }
    return out;
  }
}
