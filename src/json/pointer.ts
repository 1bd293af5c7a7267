/**
 * JSON Pointers (RFC 6901), one implementation for the tree: token escaping comes from rfc6902, the
 * library that also applies paved's JSON patches (src/webservice/render/patches.ts).
 */
import { Pointer, escapeToken as escape } from 'rfc6902/pointer.js';

/** Escapes one reference token: `~` -> `~0`, `/` -> `~1`. */
export function escapeToken(token: string): string {
  return escape(token);
}

/** The pointer of a path of (unescaped) tokens, e.g. `['metadata', 'annotations', 'paved.dev/x']`. */
export function pointerOf(...tokens: string[]): string {
  return new Pointer(['', ...tokens]).toString();
}

/** Splits a pointer into unescaped tokens ('' is the whole document). Throws on a pointer without a leading '/'. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`invalid JSON pointer "${pointer}"`);
  return Pointer.fromJSON(pointer).tokens.slice(1);
}
