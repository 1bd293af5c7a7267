/** The stream state machine of the page: snapshot, deltas, repeats, other teams, resume. */
import { describe, expect, it } from 'vitest';
import { applyMessage, emptyScope, reconnectDelay, streamUrl } from '../src/live.js';
import type { ServiceView } from '../src/types.js';

function view(key: string, team: string, phase = 'Healthy'): ServiceView {
  const [namespace = '', name = ''] = key.split('/');
  return {
    key,
    namespace,
    name,
    team,
    intent: { generation: 1, image: 'ghcr.io/acme/a:1', revision: 'r1', step: null, stepCount: 5, weight: 0, replicas: { min: 2, max: 4 } },
    reality: {
      observedGeneration: 1,
      phase,
      stableRevision: 'r1',
      canaryRevision: null,
      routeWeights: { stable: 100, canary: 0 },
      readyPods: { stable: 2, canary: 0 },
      analysis: [],
      message: null,
      failure: null,
      conditions: [],
      converged: true,
      notConvergedSince: null,
    },
  };
}

const snapshot = (seq: number, services: ServiceView[], epoch = 'e1') => ({ type: 'snapshot' as const, epoch, seq, at: '', scope: { team: 'a' }, services });

describe('applyMessage', () => {
  it('a snapshot replaces the scope and keeps only the team asked for', () => {
    const s = applyMessage(emptyScope(), snapshot(7, [view('a/web', 'a'), view('b/web', 'b')]), 'a');
    expect([...s.services.keys()]).toEqual(['a/web']);
    expect(s).toMatchObject({ epoch: 'e1', seq: 7 });
  });

  it('applies deltas as JSON Patch and ignores repeats (seq at or below the last)', () => {
    let s = applyMessage(emptyScope(), snapshot(7, [view('a/web', 'a')]), 'a');
    const delta = { type: 'delta' as const, seq: 9, at: '', key: 'a/web', team: 'a', ops: [{ op: 'replace' as const, path: '/reality/phase', value: 'Progressing' }] };
    s = applyMessage(s, delta, 'a');
    expect(s.services.get('a/web')?.reality.phase).toBe('Progressing');
    const before = s;
    expect(applyMessage(s, delta, 'a')).toBe(before);
    expect(applyMessage(s, { ...delta, seq: 8, ops: [{ op: 'replace', path: '/reality/phase', value: 'Healthy' }] }, 'a')).toBe(before);
  });

  it('never keeps a service of another team, and drops one that moved away', () => {
    let s = applyMessage(emptyScope(), snapshot(1, [view('a/web', 'a')]), 'a');
    s = applyMessage(s, { type: 'service', seq: 2, at: '', key: 'b/x', team: 'b', view: view('b/x', 'b') }, 'a');
    expect(s.services.has('b/x')).toBe(false);
    s = applyMessage(s, { type: 'service', seq: 3, at: '', key: 'a/web', team: 'b', view: view('a/web', 'b') }, 'a');
    expect(s.services.size).toBe(0);
  });

  it('service adds, removed deletes, resumed moves the cursor', () => {
    let s = applyMessage(emptyScope(), snapshot(1, []), 'a');
    s = applyMessage(s, { type: 'service', seq: 4, at: '', key: 'a/new', team: 'a', view: view('a/new', 'a') }, 'a');
    expect(s.services.has('a/new')).toBe(true);
    s = applyMessage(s, { type: 'removed', seq: 5, at: '', key: 'a/new', team: 'a' }, 'a');
    expect(s.services.size).toBe(0);
    s = applyMessage(s, { type: 'resumed', epoch: 'e1', seq: 10, at: '', from: 5 }, 'a');
    expect(s.seq).toBe(10);
  });

  it('a snapshot of a new epoch (server restarted) replaces everything', () => {
    let s = applyMessage(emptyScope(), snapshot(50, [view('a/web', 'a'), view('a/old', 'a')]), 'a');
    s = applyMessage(s, snapshot(3, [view('a/web', 'a', 'Paused')], 'e2'), 'a');
    expect(s).toMatchObject({ epoch: 'e2', seq: 3 });
    expect([...s.services.keys()]).toEqual(['a/web']);
    expect(s.services.get('a/web')?.reality.phase).toBe('Paused');
  });
});

describe('streamUrl', () => {
  it('resumes with epoch and since only once it has an epoch', () => {
    expect(streamUrl('http://h:1', { team: 'a', epoch: null, since: 0 })).toBe('ws://h:1/api/v1/stream?team=a');
    expect(streamUrl('https://h', { team: 'a', service: 'ns/web', epoch: 'e1', since: 42 })).toBe('wss://h/api/v1/stream?team=a&service=ns%2Fweb&epoch=e1&since=42');
  });

  it('backs off from 250 ms to at most 4 s', () => {
    expect([0, 1, 2, 3, 4, 10].map(reconnectDelay)).toEqual([250, 500, 1000, 2000, 4000, 4000]);
  });
});
