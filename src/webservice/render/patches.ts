/**
 * The escape hatch's patches on rendered objects (pure):
 * - JSON patch (RFC 6902: add, remove, replace, move, copy, test);
 * - merge patch (RFC 7386: objects merge, `null` deletes) with one strategic rule: when both sides are
 *   lists of objects that all carry a `name` (containers, env, volumes, volumeMounts, ports, ...), items
 *   merge by name, new names append, and an item `{name, $patch: delete}` removes that name.
 * Patches never mutate their input. A patch that cannot apply (missing path, failed test) is an
 * InvalidSpecError naming the patch, so the WebService reports it instead of applying a guess.
 */
import { InvalidSpecError } from '../../errors.js';
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

/** Splits a JSON pointer into unescaped tokens. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`invalid JSON pointer "${pointer}"`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(arr: Json[], token: string, forAdd: boolean): number {
  if (forAdd && token === '-') return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new Error(`"${token}" is not an array index`);
  const i = Number(token);
  if (i > arr.length || (!forAdd && i === arr.length)) throw new Error(`index ${i} is out of range`);
  return i;
}

function parentOf(doc: Json, tokens: string[]): { parent: Json; key: string } {
  let node: Json = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[arrayIndex(node, t, false)] as Json;
    else if (isObject(node) && t in node) node = node[t] as Json;
    else throw new Error(`path not found at "${t}"`);
  }
  return { parent: node, key: tokens[tokens.length - 1] ?? '' };
}

function getAt(doc: Json, pointer: string): Json {
  let node: Json = doc;
  for (const t of parsePointer(pointer)) {
    if (Array.isArray(node)) node = node[arrayIndex(node, t, false)] as Json;
    else if (isObject(node) && t in node) node = node[t] as Json;
    else throw new Error(`path "${pointer}" not found`);
  }
  return node;
}

function removeAt(doc: Json, pointer: string): Json {
  const tokens = parsePointer(pointer);
  if (!tokens.length) throw new Error('cannot remove the whole document');
  const { parent, key } = parentOf(doc, tokens);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, key, false), 1)[0] as Json;
  if (isObject(parent) && key in parent) {
    const old = parent[key] as Json;
    delete parent[key];
    return old;
  }
  throw new Error(`path "${pointer}" not found`);
}

function addAt(doc: Json, pointer: string, value: Json, replace: boolean): Json {
  const tokens = parsePointer(pointer);
  if (!tokens.length) return value;
  const { parent, key } = parentOf(doc, tokens);
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, key, !replace);
    parent.splice(i, replace ? 1 : 0, value);
  } else if (isObject(parent)) {
    if (replace && !(key in parent)) throw new Error(`path "${pointer}" not found`);
    parent[key] = value;
  } else throw new Error(`parent of "${pointer}" is not a container`);
  return doc;
}

function applyOperation(doc: Json, op: Operation): Json {
  const value = clone(op.value as Json);
  switch (op.op) {
    case 'add':
      return addAt(doc, op.path, value, false);
    case 'replace':
      return addAt(doc, op.path, value, true);
    case 'remove':
      removeAt(doc, op.path);
      return doc;
    case 'move': {
      const moved = removeAt(doc, op.from ?? '');
      return addAt(doc, op.path, moved, false);
    }
    case 'copy':
      return addAt(doc, op.path, clone(getAt(doc, op.from ?? '')), false);
    case 'test':
      if (JSON.stringify(getAt(doc, op.path)) !== JSON.stringify(value)) throw new Error(`test failed at "${op.path}"`);
      return doc;
  }
}

/** Applies RFC 6902 operations to a copy of `doc`. Throws Error with the failing operation's reason. */
export function applyJsonPatch<T>(doc: T, ops: readonly Operation[]): T {
  let out = clone(doc) as Json;
  ops.forEach((op, i) => {
    try {
      out = applyOperation(out, op);
    } catch (err) {
      throw new Error(`operation ${i} (${op.op} ${op.path}): ${(err as Error).message}`);
    }
  });
  return out as T;
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
