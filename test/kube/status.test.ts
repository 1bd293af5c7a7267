import { describe, expect, it } from 'vitest';
import { createMergePatch, statusEqual } from '../../src/kube/status.js';
import { hashIntent, isSubset } from '../../src/kube/apply.js';

describe('statusEqual', () => {
  const status = {
    observedGeneration: 2,
    namespaces: ['a', 'b'],
    conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2025-01-01T00:00:00Z', reason: 'R', message: '' }],
  };

  it('ignores key order, undefined/null keys and timestamp formatting', () => {
    const reordered = {
      conditions: [{ message: '', reason: 'R', status: 'True', type: 'Ready', lastTransitionTime: new Date('2025-01-01T00:00:00.000Z') }],
      namespaces: ['a', 'b'],
      observedGeneration: 2,
      extra: undefined,
      gone: null,
    };
    expect(statusEqual(status, reordered)).toBe(true);
    expect(statusEqual(undefined, {})).toBe(true);
  });

  it('sees every semantic change', () => {
    expect(statusEqual(status, { ...status, observedGeneration: 3 })).toBe(false);
    expect(statusEqual(status, { ...status, namespaces: ['b', 'a'] })).toBe(false);
    expect(statusEqual(status, { ...status, namespaces: ['a'] })).toBe(false);
    expect(statusEqual(status, { ...status, conditions: [{ ...status.conditions[0], message: 'x' }] })).toBe(false);
    expect(statusEqual(status, { ...status, conditions: [{ ...status.conditions[0], lastTransitionTime: '2025-01-01T00:00:01Z' }] })).toBe(false);
    expect(statusEqual({ a: 0 }, {})).toBe(false);
    expect(statusEqual({ a: '' }, {})).toBe(false);
    expect(statusEqual({ a: false }, { a: 'false' })).toBe(false);
  });
});

describe('createMergePatch', () => {
  it('is empty for equal objects and minimal otherwise', () => {
    expect(createMergePatch({ a: 1, b: { c: [1] } }, { b: { c: [1] }, a: 1 })).toEqual({});
    expect(createMergePatch({ a: 1, b: { c: 1, d: 2 } }, { a: 1, b: { c: 1, d: 3 } })).toEqual({ b: { d: 3 } });
  });
  it('nulls removed keys and replaces arrays whole', () => {
    expect(createMergePatch({ a: 1, b: 2, l: [1, 2] }, { a: 1, l: [2] })).toEqual({ b: null, l: [2] });
    expect(createMergePatch({ nested: { x: 1 } }, {})).toEqual({ nested: null });
    expect(createMergePatch({}, { nested: { x: 1 } })).toEqual({ nested: { x: 1 } });
  });
});

describe('apply helpers', () => {
  it('isSubset: desired fields must match, extra live fields are fine', () => {
    const live = {
      metadata: { name: 'x', labels: { a: '1', other: 'y' }, uid: 'u' },
      spec: { hard: { cpu: '4' }, list: [{ name: 'a', v: 1, extra: true }, { name: 'b', v: 2 }], args: ['x', 'y'] },
    };
    expect(isSubset({ metadata: { name: 'x', labels: { a: '1' } }, spec: { hard: { cpu: '4' } } }, live)).toBe(true);
    expect(isSubset({ spec: { list: [{ name: 'b', v: 2 }] } }, live)).toBe(true);
    expect(isSubset({ spec: { list: [{ name: 'b', v: 3 }] } }, live)).toBe(false);
    expect(isSubset({ spec: { hard: { cpu: '5' } } }, live)).toBe(false);
    expect(isSubset({ spec: { args: ['y', 'x'] } }, live)).toBe(false);
    expect(isSubset({ spec: { args: ['x'] } }, live)).toBe(false);
    expect(isSubset({ spec: { missing: 'v' } }, live)).toBe(false);
  });

  it('hashIntent is stable under key order and ignores its own annotation', () => {
    const a = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', labels: { a: '1', b: '2' } }, data: { k: 'v' } };
    const b = { data: { k: 'v' }, kind: 'ConfigMap', apiVersion: 'v1', metadata: { labels: { b: '2', a: '1' }, name: 'x', annotations: { 'paved.dev/applied-hash': 'zzz' } } };
    expect(hashIntent(a)).toBe(hashIntent(b));
    expect(hashIntent(a)).not.toBe(hashIntent({ ...a, data: { k: 'w' } }));
    expect(hashIntent(a)).toMatch(/^[0-9a-f]{16}$/);
  });
});
