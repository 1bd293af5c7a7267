import { describe, expect, it } from 'vitest';
import { applyJsonPatch, applyMergePatch } from '../../src/webservice/render/patches.js';

describe('JSON patch', () => {
  const doc = { a: { b: [1, 2, 3] }, c: 'x' };
  it('adds, removes, replaces, moves, copies and tests', () => {
    expect(applyJsonPatch(doc, [{ op: 'add', path: '/a/b/1', value: 9 as never }])).toEqual({ a: { b: [1, 9, 2, 3] }, c: 'x' });
    expect(applyJsonPatch(doc, [{ op: 'add', path: '/a/b/-', value: 4 as never }]).a.b).toEqual([1, 2, 3, 4]);
    expect(applyJsonPatch(doc, [{ op: 'remove', path: '/c' }])).toEqual({ a: { b: [1, 2, 3] } });
    expect(applyJsonPatch(doc, [{ op: 'replace', path: '/c', value: 'y' as never }]).c).toBe('y');
    expect(applyJsonPatch(doc, [{ op: 'move', from: '/c', path: '/d' }])).toEqual({ a: { b: [1, 2, 3] }, d: 'x' });
    expect(applyJsonPatch(doc, [{ op: 'copy', from: '/a/b', path: '/e' }])).toEqual({ a: { b: [1, 2, 3] }, c: 'x', e: [1, 2, 3] });
    expect(() => applyJsonPatch(doc, [{ op: 'test', path: '/c', value: 'z' as never }])).toThrow(/test failed/);
    expect(doc).toEqual({ a: { b: [1, 2, 3] }, c: 'x' });
  });
  it('unescapes ~0 and ~1', () => {
    expect(applyJsonPatch({ m: {} }, [{ op: 'add', path: '/m/example.com~1x~0y', value: 1 as never }])).toEqual({ m: { 'example.com/x~y': 1 } });
  });
  it('fails on missing parents and bad indexes', () => {
    expect(() => applyJsonPatch(doc, [{ op: 'add', path: '/x/y', value: 1 as never }])).toThrow(/not found/);
    expect(() => applyJsonPatch(doc, [{ op: 'replace', path: '/a/b/7', value: 1 as never }])).toThrow(/out of range/);
  });
});

describe('merge patch with named lists', () => {
  it('merges lists of named objects by name and deletes with $patch', () => {
    const target = { containers: [{ name: 'app', image: 'a', env: [{ name: 'A', value: '1' }] }, { name: 'side', image: 's' }] };
    const out = applyMergePatch(target, {
      containers: [{ name: 'app', env: [{ name: 'B', value: '2' }] }, { name: 'side', $patch: 'delete' }, { name: 'new', image: 'n' }],
    });
    expect(out).toEqual({ containers: [{ name: 'app', image: 'a', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }, { name: 'new', image: 'n' }] });
  });
  it('replaces other lists and deletes keys set to null', () => {
    expect(applyMergePatch({ a: [1, 2], b: { c: 1, d: 2 } }, { a: [3], b: { c: null } })).toEqual({ a: [3], b: { d: 2 } });
  });
});
