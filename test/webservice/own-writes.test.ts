import { describe, expect, it } from 'vitest';
import { OwnWrites } from '../../src/webservice/own-writes.js';

const obj = (rv: string, uid = 'u1') => ({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'n', name: 's', resourceVersion: rv, uid } });

describe('OwnWrites', () => {
  it('prefers our own write while the cache is older, then lets go', () => {
    const t = new OwnWrites();
    t.remember(obj('10'));
    expect(t.fresher(obj('9'), null)?.metadata?.resourceVersion).toBe('10');
    expect(t.fresher(obj('9'), obj('9'))?.metadata?.resourceVersion).toBe('10');
    expect(t.size).toBe(1);
    expect(t.fresher(obj('10'), obj('10'))?.metadata?.resourceVersion).toBe('10');
    expect(t.size).toBe(0);
    expect(t.fresher(obj('9'), obj('9'))?.metadata?.resourceVersion).toBe('9');
  });
  it('defers to the cache for newer or recreated objects and forgets deletions', () => {
    const t = new OwnWrites();
    t.remember(obj('10'));
    expect(t.fresher(obj('12'), obj('12'))?.metadata?.resourceVersion).toBe('12');
    t.remember(obj('20'));
    expect(t.fresher(obj('5', 'u2'), obj('5', 'u2'))?.metadata?.uid).toBe('u2');
    t.remember(obj('30'));
    t.forget(obj('30'));
    expect(t.fresher(obj('1'), null)).toBeNull();
  });
});
