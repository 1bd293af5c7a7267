/**
 * The test oracle for the stream's deltas: the rfc6902 library applies the hub's JSON patches, so the
 * tests do not check the hub's diff with an applier of its own. Any operation the library refuses fails
 * the test (a delta must always apply to the state the client holds).
 */
import { applyPatch, type Operation } from 'rfc6902';

/** Applies a delta to a copy of `doc`; throws naming the first operation that does not apply. */
export function applyDelta(doc: unknown, ops: readonly unknown[]): unknown {
  // The document sits under a wrapper key so that a replace of the whole document ('') applies too.
  const box = { doc: structuredClone(doc) };
  const lifted = (ops as Operation[]).map((op) => ({ ...op, path: `/doc${op.path}` }));
  const errors = applyPatch(box, lifted);
  const i = errors.findIndex((e) => e !== null);
  if (i >= 0) throw new Error(`delta operation ${i} (${JSON.stringify(ops[i])}) does not apply: ${errors[i]?.message}`);
  return box.doc;
}
