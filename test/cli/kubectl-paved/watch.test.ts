/**
 * The watch loop of `get ws NAME --watch` with a scripted Source (pure logic: what the loop does when a
 * watch drops, re-lists and resumes); the real watch is exercised by the end-to-end test.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { WatchedCollection, type Source } from '../../../src/cli/kubectl-paved/watch.js';

const obj = (name: string, rv: string): KubernetesObject => ({ metadata: { name, resourceVersion: rv } });

describe('WatchedCollection', () => {
  it('applies events, reports a dropped connection once, re-lists and reports the resumption', async () => {
    const lines: string[] = [];
    let changes = 0;
    let lists = 0;
    const watches: Array<{ rv: string; onEvent: (t: string, o: KubernetesObject) => void; done: (err?: unknown) => void }> = [];
    const source: Source = {
      kind: 'pods',
      async list() {
        lists++;
        if (lists === 2) throw new Error('connect ECONNREFUSED');
        return lists === 1 ? { items: [obj('a', '1')], resourceVersion: '1' } : { items: [obj('a', '5'), obj('b', '6')], resourceVersion: '6' };
      },
      async watch(rv, onEvent, done) {
        watches.push({ rv, onEvent, done });
        return { abort() {} };
      },
    };
    const col = new WatchedCollection(source, { changed: () => changes++, status: (l) => lines.push(l) }, async () => undefined);
    await col.start();
    await new Promise((r) => setImmediate(r));
    expect(watches[0]?.rv).toBe('1');
    watches[0]!.onEvent('MODIFIED', obj('a', '2'));
    watches[0]!.onEvent('ADDED', obj('c', '3'));
    watches[0]!.onEvent('DELETED', obj('c', '4'));
    expect([...col.objects.keys()]).toEqual(['a']);
    expect(col.objects.get('a')?.metadata?.resourceVersion).toBe('2');
    watches[0]!.done(new Error('socket hang up'));
    await new Promise((r) => setTimeout(r, 10));
    expect(lines).toEqual([
      'connection lost watching pods: socket hang up; reconnecting',
      'still disconnected (pods): connect ECONNREFUSED; retrying in 1s',
      'connection resumed watching pods',
    ]);
    expect([...col.objects.keys()].sort()).toEqual(['a', 'b']);
    expect(watches[1]?.rv).toBe('6');
    expect(changes).toBeGreaterThanOrEqual(5);
    col.stop();
  });
});
