/**
 * The stream hub: service views in, stream messages out. It knows nothing about WebSockets or
 * informers: `publish(view)` / `remove(key)` are the inputs (called from informer events by feed.ts),
 * and subscribers are sinks with `send`, `bufferedAmount` and `close` (a ws socket in production, an
 * array in unit tests).
 *
 * Ordering and resumption. Every change gets the next sequence number of the hub, and its serialised
 * message goes into a bounded replay ring (count and bytes). A subscriber first gets a `snapshot` of its
 * scope at the current sequence, then every later message of its scope in order. A subscriber that
 * reconnects with `{ epoch, since }` gets the ring's messages after `since` (its scope only) and a
 * `resumed` marker, or a fresh snapshot when the ring no longer reaches back that far (or the hub
 * restarted: a new epoch).
 *
 * Back-pressure. The hub never queues per subscriber: it hands each message to the sink, and a sink
 * whose unsent bytes (ws `bufferedAmount`) would pass `maxSendBufferBytes` is closed with code 4008
 * and a reason. A slow client therefore costs at most that many bytes and never delays the others or
 * the informer thread. Each message is serialised once and the same string is sent to every subscriber.
 */
import { diffJsonPatch, type PatchOp } from './json-patch.js';
import type { ServiceView } from './view.js';

/** Close code for a subscriber whose send buffer overflowed. */
export const CLOSE_SLOW_CONSUMER = 4008;
/** Close code for a subscription the server ends (hub shutdown). */
export const CLOSE_GOING_AWAY = 1001;

/** What a subscriber asked for: one team, or one service (`namespace/name`) of that team. */
export interface StreamScope {
  team: string;
  service?: string;
}

/** Where a subscriber resumes from: the epoch and the last sequence number it processed. */
export interface ResumeFrom {
  epoch: string;
  since: number;
}

/** A view without routing fields, as sent in snapshots and `service` messages. */
export type StreamMessage =
  | { type: 'snapshot'; epoch: string; seq: number; at: string; scope: StreamScope; services: ServiceView[] }
  | { type: 'resumed'; epoch: string; seq: number; at: string; from: number }
  | { type: 'service'; seq: number; at: string; key: string; team: string; view: ServiceView }
  | { type: 'delta'; seq: number; at: string; key: string; team: string; ops: PatchOp[] }
  | { type: 'removed'; seq: number; at: string; key: string; team: string };

/** The other end of a subscription. */
export interface StreamSink {
  send(data: string): void;
  /** Bytes accepted by `send` but not yet written to the network. */
  bufferedAmount(): number;
  close(code: number, reason: string): void;
}

/** Options of the hub. */
export interface HubOptions {
  /** Most messages kept for `since` replays. Default 10,000. */
  replayMessages?: number;
  /** Most bytes kept for `since` replays. Default 8 MiB. */
  replayBytes?: number;
  /** A sink with more unsent bytes than this is closed with 4008. Default 1 MiB. */
  maxSendBufferBytes?: number;
  /** Wall clock for the `at` stamps (RFC 3339). */
  now?: () => string;
  /** Identifies this hub instance; a resume from another epoch gets a snapshot. */
  epoch?: string;
  /** Called when a subscriber is dropped for being slow (metrics, logs). */
  onSlowConsumer?: (scope: StreamScope, buffered: number) => void;
}

/** Counters for metrics and tests. */
export interface HubStats {
  seq: number;
  services: number;
  subscribers: number;
  replayMessages: number;
  replayBytes: number;
  messagesSent: number;
  slowConsumersDropped: number;
}

interface RingEntry {
  seq: number;
  team: string;
  key: string;
  data: string;
}

interface Subscriber {
  scope: StreamScope;
  sink: StreamSink;
  open: boolean;
  /**
   * Extra bytes tolerated while the initial snapshot or replay drains (a big team's snapshot can be
   * larger than the limit); dropped to 0 once the socket's buffer is back under the limit.
   */
  allowance: number;
}

/** A live subscription; `close()` unsubscribes without closing the sink. */
export interface Subscription {
  close(): void;
  readonly scope: StreamScope;
}

/** See the module header. */
export class StreamHub {
  readonly epoch: string;
  private seq = 0;
  private readonly views = new Map<string, ServiceView>();
  private readonly ring: RingEntry[] = [];
  private ringStart = 0;
  private ringBytes = 0;
  /** Highest sequence number no longer in the ring (0: the ring reaches back to the beginning). */
  private evictedThrough = 0;
  private readonly byTeam = new Map<string, Set<Subscriber>>();
  private readonly opts: Required<Omit<HubOptions, 'onSlowConsumer' | 'epoch'>> & Pick<HubOptions, 'onSlowConsumer'>;
  private sent = 0;
  private dropped = 0;

  constructor(opts: HubOptions = {}) {
    this.epoch = opts.epoch ?? Math.random().toString(36).slice(2, 10);
    this.opts = {
      replayMessages: opts.replayMessages ?? 10_000,
      replayBytes: opts.replayBytes ?? 8 * 1024 * 1024,
      maxSendBufferBytes: opts.maxSendBufferBytes ?? 1024 * 1024,
      now: opts.now ?? (() => new Date().toISOString()),
      onSlowConsumer: opts.onSlowConsumer,
    };
  }

  /** The last view of a service, if the hub has one. */
  view(key: string): ServiceView | undefined {
    return this.views.get(key);
  }

  /** The current views of a scope, sorted by key. */
  viewsOf(scope: StreamScope): ServiceView[] {
    const out: ServiceView[] = [];
    for (const v of this.views.values()) if (inScope(scope, v.team, v.key)) out.push(v);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Input: the latest view of a service. Emits `service` (new or moved team), `delta` (changed) or nothing. */
  publish(view: ServiceView): void {
    const prev = this.views.get(view.key);
    this.views.set(view.key, view);
    if (prev && prev.team !== view.team) this.emit({ type: 'removed', key: prev.key, team: prev.team });
    if (!prev || prev.team !== view.team) {
      this.emit({ type: 'service', key: view.key, team: view.team, view });
      return;
    }
    const ops = diffJsonPatch(prev, view);
    if (ops.length > 0) this.emit({ type: 'delta', key: view.key, team: view.team, ops });
  }

  /** Input: a service is gone. */
  remove(key: string): void {
    const prev = this.views.get(key);
    if (!prev) return;
    this.views.delete(key);
    this.emit({ type: 'removed', key, team: prev.team });
  }

  /**
   * Adds a subscriber and sends it a snapshot, or the replay after `resume.since` when the ring still
   * holds it. The caller has already checked that the subscriber may read `scope.team`.
   */
  subscribe(scope: StreamScope, sink: StreamSink, resume?: ResumeFrom): Subscription {
    const sub: Subscriber = { scope, sink, open: true, allowance: 0 };
    const at = this.opts.now();
    const replay = resume && this.canResume(resume) ? this.replayFor(scope, resume.since) : undefined;
    const initial: string[] = replay
      ? [...replay, JSON.stringify({ type: 'resumed', epoch: this.epoch, seq: this.seq, at, from: resume?.since })]
      : [JSON.stringify({ type: 'snapshot', epoch: this.epoch, seq: this.seq, at, scope, services: this.viewsOf(scope) } satisfies StreamMessage)];
    // A replay fits half the limit (replayFor) and a snapshot goes to an idle socket: both are accepted.
    for (const data of initial) this.deliver(sub, data);
    sub.allowance = initial.reduce((n, d) => n + d.length, 0);
    if (sub.open) {
      let set = this.byTeam.get(scope.team);
      if (!set) this.byTeam.set(scope.team, (set = new Set()));
      set.add(sub);
    }
    return {
      scope,
      close: () => this.unsubscribe(sub),
    };
  }

  /** Closes every subscriber (server shutdown). */
  closeAll(code = CLOSE_GOING_AWAY, reason = 'server shutting down'): void {
    for (const set of this.byTeam.values()) {
      for (const sub of set) {
        sub.open = false;
        sub.sink.close(code, reason);
      }
    }
    this.byTeam.clear();
  }

  stats(): HubStats {
    let subscribers = 0;
    for (const set of this.byTeam.values()) subscribers += set.size;
    return {
      seq: this.seq,
      services: this.views.size,
      subscribers,
      replayMessages: this.ring.length - this.ringStart,
      replayBytes: this.ringBytes,
      messagesSent: this.sent,
      slowConsumersDropped: this.dropped,
    };
  }

  /**
   * The ring's messages of a scope after `since`, or undefined when they would not fit the send buffer
   * (written in one go, they would get the client dropped as slow, and its retry likewise: a snapshot
   * is smaller and ends the loop).
   */
  private replayFor(scope: StreamScope, since: number): string[] | undefined {
    const out: string[] = [];
    let bytes = 0;
    for (let i = this.ringStart; i < this.ring.length; i++) {
      const e = this.ring[i] as RingEntry;
      if (e.seq <= since || !inScope(scope, e.team, e.key)) continue;
      bytes += e.data.length;
      if (bytes > this.opts.maxSendBufferBytes / 2) return undefined;
      out.push(e.data);
    }
    return out;
  }

  private canResume(resume: ResumeFrom): boolean {
    return resume.epoch === this.epoch && resume.since <= this.seq && resume.since >= this.evictedThrough;
  }

  private emit(body: { type: 'service'; key: string; team: string; view: ServiceView } | { type: 'delta'; key: string; team: string; ops: PatchOp[] } | { type: 'removed'; key: string; team: string }): void {
    const seq = ++this.seq;
    const { type, ...rest } = body;
    const data = JSON.stringify({ type, seq, at: this.opts.now(), ...rest });
    this.remember({ seq, team: body.team, key: body.key, data });
    const set = this.byTeam.get(body.team);
    if (!set) return;
    for (const sub of set) if (inScope(sub.scope, body.team, body.key)) this.deliver(sub, data);
  }

  private remember(entry: RingEntry): void {
    this.ring.push(entry);
    this.ringBytes += entry.data.length;
    while (this.ring.length - this.ringStart > this.opts.replayMessages || this.ringBytes > this.opts.replayBytes) {
      const old = this.ring[this.ringStart] as RingEntry;
      this.ringStart++;
      this.ringBytes -= old.data.length;
      this.evictedThrough = old.seq;
    }
    // Compact the backing array now and then instead of shifting on every eviction.
    if (this.ringStart > 1024 && this.ringStart * 2 > this.ring.length) {
      this.ring.splice(0, this.ringStart);
      this.ringStart = 0;
    }
  }

  private deliver(sub: Subscriber, data: string): void {
    if (!sub.open) return;
    const buffered = sub.sink.bufferedAmount();
    if (sub.allowance > 0 && buffered <= this.opts.maxSendBufferBytes) sub.allowance = 0;
    // A message larger than the limit still goes to an idle socket (a big message is not slowness).
    if (buffered > 0 && buffered + data.length > this.opts.maxSendBufferBytes + sub.allowance) {
      this.dropped++;
      this.unsubscribe(sub);
      this.opts.onSlowConsumer?.(sub.scope, buffered);
      sub.sink.close(CLOSE_SLOW_CONSUMER, `slow consumer: more than ${this.opts.maxSendBufferBytes} bytes unsent`);
      return;
    }
    try {
      sub.sink.send(data);
      this.sent++;
    } catch {
      // A socket that fails a send is gone; the others must still get the message.
      this.unsubscribe(sub);
      sub.sink.close(CLOSE_GOING_AWAY, 'send failed');
    }
  }

  private unsubscribe(sub: Subscriber): void {
    sub.open = false;
    const set = this.byTeam.get(sub.scope.team);
    if (!set) return;
    set.delete(sub);
    if (set.size === 0) this.byTeam.delete(sub.scope.team);
  }
}

function inScope(scope: StreamScope, team: string, key: string): boolean {
  return scope.team === team && (scope.service === undefined || scope.service === key);
}
