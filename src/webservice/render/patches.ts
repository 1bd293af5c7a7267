/**
 * The escape hatch's patches on rendered objects (pure):
 * - JSON patch (RFC 6902: add, remove, replace, move, copy, test), applied by the rfc6902 library;
 * - merge patch (RFC 7386: objects merge, `null` deletes) with one strategic rule: when both sides are
 *   lists of objects that all carry a `name` (containers, env, volumes, volumeMounts, ports, ...), items
 *   merge by name, new names append, and an item `{name, $patch: delete}` removes that name.
 * Patches never mutate their input. A patch that cannot apply (missing path, failed test) is an
 * InvalidSpecError naming the patch, so the WebService reports it instead of applying a guess.
 */
import { applyPatch, type Operation as RfcOperation } from 'rfc6902';
import { InvalidSpecError } from '../../errors.js';
import { parsePointer } from '../../json/pointer.js';
import type { Advanced } from './spec.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Patch = NonNullable<Advanced['patches']>[number];
type Operation = NonNullable<Patch['jsonPatch']>[number];

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Why one operation failed, in the words the WebService's condition shows. */
function reasonOf(doc: unknown, op: Operation, err: Error): string {
  if (err.name === 'TestError') return `test failed at "${op.path}"`;
  if (err.name !== 'MissingError') return err.message;
  const tokens = parsePointer(op.op === 'move' || op.op === 'copy' ? (op.from ?? '') : op.path);
  const key = tokens.pop();
  let parent: unknown = doc;
  for (const t of tokens) parent = isObject(parent) || Array.isArray(parent) ? (parent as Record<string, unknown>)[t] : undefined;
  if (Array.isArray(parent)) return `index ${key} is out of range`;
  return `path "${op.op === 'move' || op.op === 'copy' ? op.from : op.path}" not found`;
}

/**
 * Applies RFC 6902 operations (through the rfc6902 library) to a copy of `doc`. Throws Error with the
 * failing operation's reason; operations after it are not applied. The document sits under a wrapper
 * key so that an operation on the whole document ('') replaces it like any other value.
 */
export function applyJsonPatch<T>(doc: T, ops: readonly Operation[]): T {
  const box = { doc: clone(doc) as unknown };
  const boxed = (path: string) => `/doc${path}`;
  ops.forEach((op, i) => {
    const lifted = { ...op, path: boxed(op.path), ...(op.from !== undefined ? { from: boxed(op.from) } : {}) } as RfcOperation;
    const [err] = applyPatch(box, [lifted]);
    if (err) throw new Error(`operation ${i} (${op.op} ${op.path}): ${reasonOf(box.doc, op, err)}`);
  });
  return box.doc as T;
}

function isNamedList(v: unknown): v is Array<Record<string, Json>> {
  return Array.isArray(v) && v.length > 0 && v.every((x) => isObject(x) && typeof x['name'] === 'string');
}

function mergeNamedLists(target: Array<Record<string, Json>>, patch: Array<Record<string, Json>>): Json[] {
  const out: Json[] = target.map((x) => clone(x));
  for (const item of patch) {
    const i = out.findIndex((x) => isObject(x) && x['name'] === item['name']);
    if (item['$patch'] === 'delete') {
      if (i >= 0) out.splice(i, 1);
      continue;
    }
    if (i >= 0) out[i] = mergePatchValue(out[i] as Json, item);
    else out.push(mergePatchValue({}, item));
  }
  return out;
}

function mergePatchValue(target: Json, patch: Json): Json {
  if (Array.isArray(patch)) {
    if (isNamedList(patch) && (Array.isArray(target) ? target.length === 0 || isNamedList(target) : false)) {
      return mergeNamedLists(target as Array<Record<string, Json>>, patch);
    }
    return clone(patch);
  }
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, Json> = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch') continue;
    if (v === null) delete out[k];
    else out[k] = mergePatchValue(out[k] as Json, v);
  }
  return out;
}

/** Applies a merge patch (with named-list merging, see the module header) to a copy of `doc`. */
export function applyMergePatch<T>(doc: T, patch: unknown): T {
  return mergePatchValue(clone(doc) as Json, patch as Json) as T;
}

interface Targetable {
  kind?: string;
  metadata?: { name?: string };
}

/**
 * Applies every patch, in order, to the objects it targets (by kind, and name when given). A patch that
 * targets nothing, or fails, is an InvalidSpecError on `spec.advanced.patches[i]`.
 */
export function applyPatches<T extends Targetable>(objects: readonly T[], patches: readonly Patch[]): T[] {
  let out = [...objects];
  patches.forEach((p, i) => {
    const field = `spec.advanced.patches[${i}]`;
    const matches = (o: T): boolean =>
      o.kind === p.target.kind && (p.target.name === undefined || o.metadata?.name === p.target.name);
    if (!out.some(matches)) {
      const what = p.target.name ? `${p.target.kind}/${p.target.name}` : p.target.kind;
      throw new InvalidSpecError(field, `no rendered object matches target ${what}`);
    }
    out = out.map((o) => {
      if (!matches(o)) return o;
      try {
        return p.jsonPatch ? applyJsonPatch(o, p.jsonPatch) : applyMergePatch(o, p.mergePatch ?? {});
      } catch (err) {
        throw new InvalidSpecError(field, `cannot patch ${o.kind}/${o.metadata?.name}: ${(err as Error).message}`, { cause: err });
      }
    });
  });
  return out;
}
