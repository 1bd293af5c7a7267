/**
 * The stream's deltas: JSON Patch (RFC 6902) operations between two JSON documents. Objects are
 * diffed key by key (`add`, `remove`, `replace`), arrays and scalars are replaced whole. Unlike a merge
 * patch, a value that becomes `null` stays `null` (a merge patch would delete the key). Pure.
 */
import { escapeToken as escape } from '../json/pointer.js';

/** One operation; paths are JSON Pointers (RFC 6901). */
export type PatchOp =
  | { op: 'add'; path: string; value: unknown }
  | { op: 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/** The operations that turn `from` into `to` (empty when they are equal). */
export function diffJsonPatch(from: unknown, to: unknown, path = ''): PatchOp[] {
  if (jsonEqual(from, to)) return [];
  if (!isObject(from) || !isObject(to)) return [{ op: 'replace', path, value: to ?? null }];
  const ops: PatchOp[] = [];
  for (const key of Object.keys(from)) {
    if (from[key] !== undefined && (!Object.hasOwn(to, key) || to[key] === undefined)) ops.push({ op: 'remove', path: `${path}/${escape(key)}` });
  }
  for (const [key, value] of Object.entries(to)) {
    if (value === undefined) continue;
    const child = `${path}/${escape(key)}`;
    if (!Object.hasOwn(from, key) || from[key] === undefined) ops.push({ op: 'add', path: child, value });
    else ops.push(...diffJsonPatch(from[key], value, child));
  }
  return ops;
}
