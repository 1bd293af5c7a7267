/**
 * Helpers of the dashboard tests: loads dashboards/*.json, walks panels and targets, extracts the
 * metric names a PromQL expression reads, reads the metrics paved exports from src/, and
 * substitutes Grafana template variables.
 */
import { renderRuleGroups } from '../../src/monitoring/rules.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const DASHBOARD_DIR = join(ROOT, 'dashboards');

export interface JsonTarget {
  refId?: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
export interface JsonPanel {
  id?: number;
  type?: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  targets?: JsonTarget[];
  panels?: JsonPanel[];
}
export interface JsonVariable {
  name: string;
  type: string;
  query?: unknown;
  definition?: string;
  current?: { value?: unknown };
}
export interface JsonDashboard {
  uid?: string;
  title?: string;
  tags?: string[];
  schemaVersion?: number;
  templating?: { list?: JsonVariable[] };
  panels?: JsonPanel[];
}

export function dashboardFiles(): string[] {
  return readdirSync(DASHBOARD_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

export function loadDashboard(file: string): JsonDashboard {
  return JSON.parse(readFileSync(join(DASHBOARD_DIR, file), 'utf8')) as JsonDashboard;
}

/** Every panel, rows' nested panels included. */
export function allPanels(d: JsonDashboard): JsonPanel[] {
  const out: JsonPanel[] = [];
  const walk = (ps: JsonPanel[] | undefined): void => {
    for (const p of ps ?? []) {
      out.push(p);
      walk(p.panels);
    }
  };
  walk(d.panels);
  return out;
}

export function allTargets(d: JsonDashboard): Array<{ panel: JsonPanel; target: JsonTarget }> {
  return allPanels(d).flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel, target })));
}

/** The PromQL of a query variable (`label_values(...)`), if any. */
export function variableQuery(v: JsonVariable): string | undefined {
  if (v.type !== 'query') return undefined;
  if (typeof v.query === 'string') return v.query;
  if (v.query && typeof v.query === 'object' && typeof (v.query as { query?: unknown }).query === 'string') return (v.query as { query: string }).query;
  return v.definition;
}

const FUNCTIONS = new Set([
  'abs', 'absent', 'absent_over_time', 'avg', 'avg_over_time', 'bottomk', 'ceil', 'changes', 'clamp', 'clamp_max', 'clamp_min',
  'count', 'count_over_time', 'count_values', 'delta', 'deriv', 'exp', 'floor', 'group', 'histogram_quantile', 'idelta',
  'increase', 'irate', 'label_join', 'label_replace', 'last_over_time', 'ln', 'log2', 'log10', 'max', 'max_over_time', 'min',
  'min_over_time', 'predict_linear', 'quantile', 'quantile_over_time', 'rate', 'resets', 'round', 'scalar', 'sort',
  'sort_desc', 'sqrt', 'stddev', 'stdvar', 'sum', 'sum_over_time', 'time', 'timestamp', 'topk', 'vector', 'label_values',
  'and', 'or', 'unless', 'offset', 'bool', 'inf', 'nan',
]);

/** The metric names an expression (or a label_values variable query) reads. */
export function metricNames(expr: string): string[] {
  let s = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""'); // string literals
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  s = s.replace(/\{[^}]*\}/g, ' '); // selectors
  s = s.replace(/\[[^\]]*\]/g, ' '); // ranges and subqueries
  s = s.replace(/\$\w+/g, ' '); // template variables
  // label_values(metric, label): drop the label argument
  s = s.replace(/\blabel_values\s*\(([^,()]*),\s*\w+\s*\)/g, 'label_values($1)');
  const names = new Set<string>();
  for (const m of s.matchAll(/(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)) {
    const id = m[1] as string;
    if (FUNCTIONS.has(id)) continue;
    if (/^\d/.test(id)) continue;
    names.add(id);
  }
  return [...names].sort();
}

/** Metrics paved itself exports (prom-client constructors in src/), with histogram series names. */
export function pavedExportedMetrics(): Map<string, 'counter' | 'gauge' | 'histogram' | 'summary'> {
  const out = new Map<string, 'counter' | 'gauge' | 'histogram' | 'summary'>();
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
  for (const file of walk(join(ROOT, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/new\s+(Counter|Gauge|Histogram|Summary)(?:<[^>]*>)?\(\s*\{\s*name:\s*['"]([a-zA-Z_:][a-zA-Z0-9_:]*)['"]/g)) {
      out.set(m[2] as string, (m[1] as string).toLowerCase() as 'counter' | 'gauge' | 'histogram' | 'summary');
    }
  }
  return out;
}

/**
 * The rightsizing engine's metrics (issue 13, built on another branch): the Rightsizing dashboard
 * reads them; its query test feeds these series itself until the engine exports them from src/.
 */
export const RIGHTSIZING_METRICS: ReadonlySet<string> = new Set([
  'paved_rightsizing_recommendations',
  'paved_rightsizing_recommended_request',
  'paved_rightsizing_projected_savings_monthly',
  'paved_rightsizing_applied_total',
  'paved_rightsizing_rolled_back_total',
]);

/** The series names a dashboard may read from paved's own metrics and recording rules. */
export function pavedSeriesNames(): Set<string> {
  const out = new Set<string>(RIGHTSIZING_METRICS);
  for (const group of renderRuleGroups()) for (const r of group.rules) if ('record' in r) out.add(r.record);
  for (const [name, type] of pavedExportedMetrics()) {
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(name + s);
    else if (type === 'summary') for (const s of ['', '_sum', '_count']) out.add(name + s);
    else out.add(name);
  }
  return out;
}

/** Metrics of other exporters the dashboards may read (the ones the cost model uses). */
export const EXTERNAL_METRICS: ReadonlySet<string> = new Set([
  // kube-state-metrics
  'kube_pod_container_resource_requests',
  'kube_pod_status_phase',
  'kube_pod_labels',
  'kube_namespace_labels',
  'kube_persistentvolumeclaim_resource_requests_storage_bytes',
  // cAdvisor (kubelet)
  'container_cpu_usage_seconds_total',
  'container_memory_working_set_bytes',
]);

/** Values the integration test gives the template variables (present in its synthetic data). */
export interface Substitution {
  readonly variables: Readonly<Record<string, string>>;
}

/**
 * Substitutes Grafana's built-in and the dashboard's template variables in an expression. Textbox
 * variables take their current value from the dashboard; the others come from `values`.
 */
export function substitute(expr: string, d: JsonDashboard, values: Readonly<Record<string, string>>): string {
  const vars: Record<string, string> = {
    __rate_interval: '5m',
    __interval: '1m',
    __range_s: '3600',
    __range_ms: '3600000',
    __range: '1h',
    ...values,
  };
  for (const v of d.templating?.list ?? []) {
    if (v.type === 'textbox' || v.type === 'constant' || v.type === 'custom') {
      const cur = v.current?.value;
      if (typeof cur === 'string' && vars[v.name] === undefined) vars[v.name] = cur;
    }
  }
  return expr
    .replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g, (whole, a?: string, b?: string, c?: string) => {
      const name = (a ?? b ?? c) as string;
      if (/^\d+$/.test(name)) return whole; // "$1" of label_replace
      const value = vars[name];
      if (value === undefined) throw new Error(`no value for template variable $${name} in ${expr}`);
      return value;
    });
}
