/**
 * Label selectors (pure): parse the string form (`a=b,c!=d,e in (x,y),f notin (z),g,!h`) and match
 * label maps. Used by the informer cache to list by label.
 */

/** One requirement of a selector. */
export interface LabelRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values: string[];
}

/** A selector as a string, a matchLabels map, or parsed requirements. */
export type LabelSelectorInput = string | Record<string, string> | readonly LabelRequirement[];

function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter(Boolean);
}

function parseRequirement(part: string): LabelRequirement {
  const set = /^(\S+)\s+(in|notin)\s+\((.*)\)$/.exec(part);
  if (set) {
    const values = (set[3] ?? '').split(',').map((v) => v.trim()).filter(Boolean);
    return { key: set[1] ?? '', operator: set[2] === 'in' ? 'In' : 'NotIn', values };
  }
  const neq = /^([^!=\s]+)\s*!=\s*(\S*)$/.exec(part);
  if (neq) return { key: neq[1] ?? '', operator: 'NotIn', values: [neq[2] ?? ''] };
  const eq = /^([^!=\s]+)\s*==?\s*(\S*)$/.exec(part);
  if (eq) return { key: eq[1] ?? '', operator: 'In', values: [eq[2] ?? ''] };
  if (part.startsWith('!')) return { key: part.slice(1).trim(), operator: 'DoesNotExist', values: [] };
  if (/^\S+$/.test(part)) return { key: part, operator: 'Exists', values: [] };
  throw new Error(`invalid label selector requirement: ${part}`);
}

/** Parses a selector into requirements (an empty selector matches everything). */
export function parseLabelSelector(selector: LabelSelectorInput): LabelRequirement[] {
  if (typeof selector === 'string') return splitTopLevel(selector).map(parseRequirement);
  if (Array.isArray(selector)) return [...(selector as readonly LabelRequirement[])];
  return Object.entries(selector as Record<string, string>)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => ({ key, operator: 'In' as const, values: [value] }));
}

/** True when the labels satisfy every requirement of the selector. */
export function matchesLabelSelector(
  labels: Readonly<Record<string, string>> | undefined,
  selector: LabelSelectorInput,
): boolean {
  const l = labels ?? {};
  return parseLabelSelector(selector).every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.operator) {
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      case 'In':
        return has && r.values.includes(l[r.key] ?? '');
      case 'NotIn':
        return !has || !r.values.includes(l[r.key] ?? '');
    }
  });
}

/** Formats a matchLabels map as a selector string, keys sorted (stable output). */
export function formatLabelSelector(matchLabels: Readonly<Record<string, string>>): string {
  return Object.keys(matchLabels)
    .sort()
    .map((k) => `${k}=${matchLabels[k]}`)
    .join(',');
}
