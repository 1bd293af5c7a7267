/**
 * Confines a namespaced AnalysisTemplate's PromQL to the WebService's namespace, as prom-label-proxy
 * does: every vector selector gets `namespace="{{namespace}}"` (rendered later with the WebService's
 * namespace, escaped), so a team's template can read only its own namespace's series. The query is
 * parsed with Prometheus' own grammar (@prometheus-io/lezer-promql), not with regular expressions, so
 * a selector hidden in a subquery, a function argument or a binary expression is found like any other.
 *
 * What cannot be confined is refused with the reason: a query that does not parse, a selector that
 * already matches `namespace` on anything but `="{{namespace}}"`, a quoted label name with escapes.
 * Pure. ClusterAnalysisTemplates are platform-owned and are not passed through here.
 */
import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode } from '@lezer/common';

/** The matcher every selector of a namespaced template carries. */
export const NAMESPACE_MATCHER = 'namespace="{{namespace}}"';
const NAMESPACE_VALUE = '"{{namespace}}"';
const INTERVAL = /\{\{\s*interval\s*\}\}/g;

/** The confined template, or why the query cannot be confined. */
export type ConfineResult = { query: string } | { error: string };

interface Insertion {
  at: number;
  text: string;
}

function labelNameOf(matcher: SyntaxNode, text: string): string | { error: string } {
  const unquoted = matcher.getChild('LabelName');
  if (unquoted) return text.slice(unquoted.from, unquoted.to);
  const quoted = matcher.getChild('QuotedLabelName') ?? (matcher.name === 'QuotedLabelName' ? matcher : null);
  if (!quoted) return { error: 'a label matcher without a label name' };
  const raw = text.slice(quoted.from, quoted.to);
  // An escape could spell "namespace" in a way a plain comparison misses: refuse rather than guess.
  if (raw.includes('\\')) return { error: `the quoted label name ${raw} uses escapes` };
  return raw.slice(1, -1);
}

/** Checks one selector's matchers; returns the insertion that confines it (none when already confined). */
function confineSelector(selector: SyntaxNode, text: string): Insertion | undefined | { error: string } {
  const matchers = selector.getChild('LabelMatchers');
  if (!matchers) return { at: selector.to, text: `{${NAMESPACE_MATCHER}}` };
  let confined = false;
  let count = 0;
  for (let m = matchers.firstChild; m; m = m.nextSibling) {
    if (m.name !== 'UnquotedLabelMatcher' && m.name !== 'QuotedLabelMatcher') continue;
    count++;
    const name = labelNameOf(m, text);
    if (typeof name !== 'string') return name;
    if (name !== 'namespace') continue;
    const op = m.getChild('MatchOp');
    const value = m.getChildren('StringLiteral').at(-1);
    const opText = op ? text.slice(op.from, op.to) : '';
    const valueText = value ? text.slice(value.from, value.to) : '';
    if (opText !== '=' || valueText !== NAMESPACE_VALUE) {
      return { error: `the selector ${text.slice(selector.from, selector.to)} matches namespace${opText}${valueText}; a namespaced template may only read its own namespace (namespace="{{namespace}}", or no namespace matcher at all)` };
    }
    confined = true;
  }
  if (confined) return undefined;
  // Appended last: a quoted metric name (`{"my.metric"}`) stays where it is.
  const close = matchers.to - 1;
  const before = text.slice(matchers.from + 1, close).trimEnd();
  const separator = count === 0 || before.endsWith(',') ? '' : ',';
  return { at: close, text: `${separator}${NAMESPACE_MATCHER}` };
}

/**
 * Confines a query template (placeholders and all) to `namespace="{{namespace}}"`. `{{interval}}`
 * placeholders are parsed as a duration of the same length, so positions map back one to one.
 */
export function confineQueryTemplate(template: string): ConfineResult {
  if (template.trim() === '') return { error: 'the query is empty' };
  const parsable = template.replace(INTERVAL, (m) => `${'9'.repeat(m.length - 1)}s`);
  const tree = parser.parse(parsable);
  const insertions: Insertion[] = [];
  let failure: string | undefined;
  // First the whole tree for parse errors (lezer recovers and keeps going; paved must not).
  tree.iterate({
    enter(ref) {
      if (failure) return false;
      if (ref.type.isError) {
        failure = `the query does not parse as PromQL near position ${ref.from} (${JSON.stringify(parsable.slice(Math.max(0, ref.from - 10), ref.from + 10))})`;
      }
      return undefined;
    },
  });
  if (failure) return { error: failure };
  tree.iterate({
    enter(ref) {
      if (failure) return false;
      if (ref.name !== 'VectorSelector') return undefined;
      const result = confineSelector(ref.node, parsable);
      if (result && 'error' in result) failure = result.error;
      else if (result) insertions.push(result);
      return false;
    },
  });
  if (failure) return { error: failure };
  let out = template;
  for (const ins of insertions.sort((a, b) => b.at - a.at)) out = out.slice(0, ins.at) + ins.text + out.slice(ins.at);
  return { query: out };
}
