/**
 * The stream hub as a pure module: views in, messages out, to sinks that record what they get.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLOSE_SLOW_CONSUMER, StreamHub, type StreamMessage, type StreamSink } from '../../src/server/hub.js';
import { applyDelta } from '../support/json-patch-oracle.js';
import { projectView, type ServiceView } from '../../src/server/view.js';
import { webService } from './fixtures.js';

const NOW = '2026-01-01T00:00:00.000Z';

function view(team: string, ns: string, name: string, generation = 1, observed?: number): ServiceView {
  return projectView(
    { webService: webService(ns, name, { generation, ...(observed !== undefined ? { status: { observedGeneration: observed } } : {}) }), team },
    NOW,
  );
}

class RecordingSink implements StreamSink {
  messages: StreamMessage[] = [];
  buffered = 0;
  closed: { code: number; reason: string } | undefined;
  send(data: string): void {
    this.messages.push(JSON.parse(data) as StreamMessage);
  }
  bufferedAmount(): number {
    return this.buffered;
  }
  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }
}

/** What a client holds after applying its messages. */
function clientState(messages: StreamMessage[], start: Map<string, unknown> = new Map()): Map<string, unknown> {
  const state = new Map(start);
  for (const m of messages) {
    if (m.type === 'snapshot') {
      state.clear();
      for (const v of m.services) state.set(v.key, v);
    } else if (m.type === 'service') state.set(m.key, m.view);
    else if (m.type === 'delta') state.set(m.key, applyDelta(state.get(m.key), m.ops));
    else if (m.type === 'removed') state.delete(m.key);
  }
  return state;
}

describe('StreamHub', () => {
  it('sends a snapshot, then deltas in sequence order', () => {
    const hub = new StreamHub({ now: () => NOW });
    hub.publish(view('a', 'a', 'shop'));
    const sink = new RecordingSink();
    hub.subscribe({ team: 'a' }, sink);
    hub.publish(view('a', 'a', 'shop', 2));
    hub.publish(view('a', 'a', 'shop', 2, 2));
    hub.publish(view('a', 'a', 'cart'));
    hub.remove('a/cart');
    expect(sink.messages.map((m) => m.type)).toEqual(['snapshot', 'delta', 'delta', 'service', 'removed']);
    const seqs = sink.messages.map((m) => m.seq);
    expect(seqs).toEqual([1, 2, 3, 4, 5]);
    const first = sink.messages[1] as Extract<StreamMessage, { type: 'delta' }>;
    expect(first.ops).toEqual([{ op: 'replace', path: '/intent/generation', value: 2 }]);
  });

  it('emits nothing when a publish changes nothing visible', () => {
    const hub = new StreamHub({ now: () => NOW });
    hub.publish(view('a', 'a', 'shop'));
    const before = hub.stats().seq;
    hub.publish(view('a', 'a', 'shop'));
    expect(hub.stats().seq).toBe(before);
  });

  it('never sends one team\'s services to another team\'s subscriber', () => {
    const hub = new StreamHub({ now: () => NOW });
    hub.publish(view('b', 'b', 'secret'));
    const a = new RecordingSink();
    hub.subscribe({ team: 'a' }, a);
    hub.publish(view('b', 'b', 'secret', 2));
    hub.publish(view('a', 'a', 'shop'));
    hub.remove('b/secret');
    expect(JSON.stringify(a.messages)).not.toContain('secret');
    expect(a.messages.map((m) => m.type)).toEqual(['snapshot', 'service']);
  });

  it('filters a service-scoped subscription', () => {
    const hub = new StreamHub({ now: () => NOW });
    const s = new RecordingSink();
    hub.subscribe({ team: 'a', service: 'a/shop' }, s);
    hub.publish(view('a', 'a', 'cart'));
    hub.publish(view('a', 'a', 'shop'));
    expect(s.messages.map((m) => m.type)).toEqual(['snapshot', 'service']);
  });

  it('moves a service between teams as removed + service', () => {
    const hub = new StreamHub({ now: () => NOW });
    hub.publish(view('a', 'x', 'svc'));
    const a = new RecordingSink();
    const b = new RecordingSink();
    hub.subscribe({ team: 'a' }, a);
    hub.subscribe({ team: 'b' }, b);
    hub.publish(view('b', 'x', 'svc'));
    expect(a.messages.map((m) => m.type)).toEqual(['snapshot', 'removed']);
    expect(b.messages.map((m) => m.type)).toEqual(['snapshot', 'service']);
  });

  it('resumes from `since` with no gap and no duplicate', () => {
    const hub = new StreamHub({ now: () => NOW });
    const first = new RecordingSink();
    const sub = hub.subscribe({ team: 'a' }, first);
    hub.publish(view('a', 'a', 'shop'));
    hub.publish(view('a', 'a', 'shop', 2));
    const lastSeen = first.messages[first.messages.length - 1]!.seq;
    sub.close();
    hub.publish(view('a', 'a', 'shop', 3));
    hub.publish(view('b', 'b', 'other'));
    hub.publish(view('a', 'a', 'cart'));
    const again = new RecordingSink();
    hub.subscribe({ team: 'a' }, again, { epoch: hub.epoch, since: lastSeen });
    hub.publish(view('a', 'a', 'cart', 2));
    expect(again.messages.map((m) => m.type)).toEqual(['delta', 'service', 'resumed', 'delta']);
    const seqs = [...first.messages, ...again.messages].filter((m) => m.type !== 'snapshot' && m.type !== 'resumed').map((m) => m.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    const state = clientState(again.messages, clientState(first.messages));
    expect(Object.fromEntries(state)).toEqual(Object.fromEntries(hub.viewsOf({ team: 'a' }).map((v) => [v.key, v])));
  });

  it('sends a fresh snapshot when the replay buffer no longer reaches back, or after a restart', () => {
    const hub = new StreamHub({ now: () => NOW, replayMessages: 3 });
    for (let g = 1; g <= 10; g++) hub.publish(view('a', 'a', 'shop', g));
    const old = new RecordingSink();
    hub.subscribe({ team: 'a' }, old, { epoch: hub.epoch, since: 2 });
    expect(old.messages.map((m) => m.type)).toEqual(['snapshot']);
    const recent = new RecordingSink();
    hub.subscribe({ team: 'a' }, recent, { epoch: hub.epoch, since: 8 });
    expect(recent.messages.map((m) => m.type)).toEqual(['delta', 'delta', 'resumed']);
    const other = new RecordingSink();
    hub.subscribe({ team: 'a' }, other, { epoch: 'another-process', since: 8 });
    expect(other.messages.map((m) => m.type)).toEqual(['snapshot']);
    const future = new RecordingSink();
    hub.subscribe({ team: 'a' }, future, { epoch: hub.epoch, since: 999 });
    expect(future.messages.map((m) => m.type)).toEqual(['snapshot']);
    expect(hub.stats().replayMessages).toBe(3);
  });

  it('sends a snapshot instead of a replay that would overflow the send buffer', () => {
    const hub = new StreamHub({ now: () => NOW, maxSendBufferBytes: 8_000 });
    const first = new RecordingSink();
    const sub = hub.subscribe({ team: 'a' }, first);
    sub.close();
    for (let g = 1; g <= 50; g++) hub.publish(view('a', 'a', `svc-${g}`));
    const again = new RecordingSink();
    hub.subscribe({ team: 'a' }, again, { epoch: hub.epoch, since: first.messages[0]!.seq });
    expect(again.messages.map((m) => m.type)).toEqual(['snapshot']);
    expect(again.closed).toBeUndefined();
  });

  it('tolerates a snapshot larger than the send buffer while it drains, then applies the limit', () => {
    const hub = new StreamHub({ now: () => NOW, maxSendBufferBytes: 2_000 });
    for (let g = 1; g <= 20; g++) hub.publish(view('a', 'a', `svc-${g}`));
    const big = new RecordingSink();
    hub.subscribe({ team: 'a' }, big);
    const snapshotBytes = JSON.stringify(big.messages[0]).length;
    expect(snapshotBytes).toBeGreaterThan(4 * 2_000);
    big.buffered = snapshotBytes; // nothing flushed yet
    hub.publish(view('a', 'a', 'svc-1', 2));
    expect(big.closed).toBeUndefined();
    big.buffered = 100; // drained
    hub.publish(view('a', 'a', 'svc-1', 3));
    big.buffered = 5_000; // now slow
    hub.publish(view('a', 'a', 'svc-1', 4));
    expect(big.closed?.code).toBe(CLOSE_SLOW_CONSUMER);
  });

  it('bounds the replay buffer in bytes too', () => {
    const hub = new StreamHub({ now: () => NOW, replayBytes: 4_000 });
    for (let g = 1; g <= 200; g++) hub.publish(view('a', 'a', `svc-${g}`));
    expect(hub.stats().replayBytes).toBeLessThanOrEqual(4_000);
    expect(hub.stats().replayMessages).toBeGreaterThan(0);
  });

  it('closes a slow consumer with 4008 and keeps serving the others', () => {
    const hub = new StreamHub({ now: () => NOW, maxSendBufferBytes: 10_000 });
    const slow = new RecordingSink();
    const fast = new RecordingSink();
    hub.subscribe({ team: 'a' }, slow);
    hub.subscribe({ team: 'a' }, fast);
    slow.buffered = 9_900;
    hub.publish(view('a', 'a', 'shop'));
    hub.publish(view('a', 'a', 'shop', 2));
    expect(slow.closed).toEqual({ code: CLOSE_SLOW_CONSUMER, reason: expect.stringMatching(/slow consumer/) });
    expect(slow.messages.map((m) => m.type)).toEqual(['snapshot']);
    expect(fast.messages.map((m) => m.type)).toEqual(['snapshot', 'service', 'delta']);
    expect(hub.stats()).toMatchObject({ subscribers: 1, slowConsumersDropped: 1 });
  });

  it('drops a subscriber whose send throws and still serves the others', () => {
    const hub = new StreamHub({ now: () => NOW });
    const broken = new RecordingSink();
    const ok = new RecordingSink();
    hub.subscribe({ team: 'a' }, broken);
    hub.subscribe({ team: 'a' }, ok);
    broken.send = () => {
      throw new Error('socket gone');
    };
    hub.publish(view('a', 'a', 'shop'));
    hub.publish(view('a', 'a', 'shop', 2));
    expect(broken.closed?.code).toBe(1001);
    expect(ok.messages.map((m) => m.type)).toEqual(['snapshot', 'service', 'delta']);
    expect(hub.stats().subscribers).toBe(1);
  });

  it('keeps every client in sync over random histories and reconnects (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('publish' as const), team: fc.constantFrom('a', 'b'), svc: fc.integer({ min: 0, max: 3 }), gen: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ kind: fc.constant('remove' as const), svc: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ kind: fc.constant('reconnect' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: 2, max: 40 }), (ops, replay) => {
        const hub = new StreamHub({ now: () => NOW, replayMessages: replay });
        let sink = new RecordingSink();
        let sub = hub.subscribe({ team: 'a' }, sink);
        let state = clientState(sink.messages);
        let lastSeq = sink.messages.at(-1)?.seq ?? 0;
        const seen: number[] = [];
        for (const o of ops) {
          if (o.kind === 'publish') hub.publish(view(o.team, 'ns', `s${o.svc}`, o.gen));
          else if (o.kind === 'remove') hub.remove(`ns/s${o.svc}`);
          else {
            state = clientState(sink.messages, state);
            seen.push(...sink.messages.filter((m) => m.type !== 'snapshot' && m.type !== 'resumed').map((m) => m.seq));
            lastSeq = sink.messages.at(-1)?.seq ?? lastSeq;
            sub.close();
            hub.publish(view('a', 'ns', 's9', 1 + seen.length));
            sink = new RecordingSink();
            sub = hub.subscribe({ team: 'a' }, sink, { epoch: hub.epoch, since: lastSeq });
          }
        }
        state = clientState(sink.messages, state);
        seen.push(...sink.messages.filter((m) => m.type !== 'snapshot' && m.type !== 'resumed').map((m) => m.seq));
        const expected = Object.fromEntries(hub.viewsOf({ team: 'a' }).map((v) => [v.key, v]));
        expect(Object.fromEntries(state)).toEqual(expected);
        // Between snapshots, no sequence number is delivered twice.
        expect(new Set(seen).size).toBe(seen.length);
      }),
      { numRuns: 200 },
    );
  });
});
