/**
 * AnalysisTemplate and ClusterAnalysisTemplate resolution. Templates are parsed with the zod schema
 * (defaults as in the CRD); references resolve against a lookup, which the reconciler backs with the
 * API server and, for cluster-scoped names it does not find there, with the built-in templates
 * shipped in analysis-templates/ (so the defaults work before anyone installs them).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { confineQueryTemplate } from './confine-query.js';
import { InvalidSpecError } from '../errors.js';
import { templateSpecSchema, type ResolvedMetric, type TemplateRef, type TemplateSpec } from './types.js';

export const ANALYSIS_API_VERSION = 'paved.dev/v1alpha1';

/** The directory of the built-in templates (analysis-templates/ at the repository root). */
export const BUILTIN_TEMPLATES_DIR = fileURLToPath(new URL('../../analysis-templates/', import.meta.url));

/** The names of the built-in ClusterAnalysisTemplates that gate the default steps. */
export const DEFAULT_TEMPLATE_REFS: readonly TemplateRef[] = [
  { name: 'error-rate', clusterScope: true },
  { name: 'latency-p99', clusterScope: true },
];

/** Parses an (Cluster)AnalysisTemplate object's spec; throws InvalidSpecError naming the field. */
export function parseTemplateSpec(spec: unknown, where: string): TemplateSpec {
  const parsed = templateSpecSchema.safeParse(spec);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue ? ['spec', ...issue.path.map(String)].join('.') : 'spec';
    throw new InvalidSpecError(`${where} ${path}`, issue?.message ?? 'invalid template');
  }
  return parsed.data;
}

/** Reads the built-in ClusterAnalysisTemplates from a directory of YAML files. */
export async function loadBuiltinTemplates(dir: string = BUILTIN_TEMPLATES_DIR): Promise<Map<string, TemplateSpec>> {
  const out = new Map<string, TemplateSpec>();
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(await readFile(join(dir, file), 'utf8'))) {
      const obj = doc.toJS() as { kind?: string; metadata?: { name?: string }; spec?: unknown } | null;
      if (obj?.kind !== 'ClusterAnalysisTemplate' || !obj.metadata?.name) continue;
      out.set(obj.metadata.name, parseTemplateSpec(obj.spec, `${file}`));
    }
  }
  return out;
}

/** Label of a reference, as used in messages and in MetricRun.template. */
export function templateLabel(ref: TemplateRef): string {
  return ref.clusterScope ? `ClusterAnalysisTemplate/${ref.name}` : `AnalysisTemplate/${ref.name}`;
}

/**
 * Resolves references to metrics. `lookup` returns the spec or undefined when the template does not
 * exist. Throws InvalidSpecError for a missing template or a metric name used twice.
 */
export function resolveMetrics(
  refs: readonly TemplateRef[],
  lookup: (ref: TemplateRef) => TemplateSpec | undefined,
  field = 'spec.delivery',
): ResolvedMetric[] {
  const out: ResolvedMetric[] = [];
  for (const ref of refs) {
    const spec = lookup(ref);
    if (!spec) throw new InvalidSpecError(field, `${templateLabel(ref)} not found`);
    for (const metric of spec.metrics) {
      if (out.some((r) => r.metric.name === metric.name)) {
        throw new InvalidSpecError(field, `metric ${metric.name} is defined by two templates; metric names must be unique within an analysis`);
      }
      if (ref.clusterScope) {
        out.push({ template: templateLabel(ref), metric });
        continue;
      }
      // A team's own template reads only its namespace's series (confine-query.ts).
      const confined = confineQueryTemplate(metric.query);
      if ('error' in confined) {
        throw new InvalidSpecError(field, `${templateLabel(ref)} metric ${metric.name}: spec.metrics.query cannot be confined to the namespace: ${confined.error}`);
      }
      out.push({ template: templateLabel(ref), metric: { ...metric, query: confined.query } });
    }
  }
  return out;
}
