/**
 * The live data path: one WebSocket per team (optionally narrowed to one service), kept open by itself.
 * `applyMessage` is the pure state machine: a snapshot replaces the scope, service/delta/removed change
 * one service, anything at or below the last sequence number is a repeat and ignored, and a service of
 * another team is never kept. On a lost connection the scope reconnects with its `epoch` and `since`:
 * the server replays what was missed (or sends a fresh snapshot), so there is no gap and no duplicate.
 */
import { applyPatch } from 'rfc6902';
import type { ServiceView, StreamMessage } from './types.js';

export interface ScopeState {
  epoch: string | null;
  seq: number;
  services: ReadonlyMap<string, ServiceView>;
}

export const emptyScope = (): ScopeState => ({ epoch: null, seq: 0, services: new Map() });

/** The next state after one message of the stream of `team`. */
export function applyMessage(state: ScopeState, msg: StreamMessage, team: string): ScopeState {
  if (msg.type === 'snapshot') {
    const services = new Map(msg.services.filter((v) => v.team === team).map((v) => [v.key, v]));
    return { epoch: msg.epoch, seq: msg.seq, services };
  }
  if (msg.seq <= state.seq) return state;
  if (msg.type === 'resumed') return { ...state, epoch: msg.epoch, seq: msg.seq };
  const services = new Map(state.services);
  if (msg.type === 'removed' || msg.team !== team) {
    services.delete(msg.key);
  } else if (msg.type === 'service') {
    services.set(msg.key, msg.view);
  } else {
    const prev = services.get(msg.key);
    if (prev) {
      const next = structuredClone(prev);
      applyPatch(next, msg.ops);
      services.set(msg.key, next);
    }
  }
  return { ...state, seq: msg.seq, services };
}

export function streamUrl(origin: string, q: { team: string; service?: string; epoch?: string | null; since?: number }): string {
  const url = new URL('/api/v1/stream', origin.replace(/^http/, 'ws'));
  url.searchParams.set('team', q.team);
  if (q.service) url.searchParams.set('service', q.service);
  if (q.epoch && q.since !== undefined) {
    url.searchParams.set('epoch', q.epoch);
    url.searchParams.set('since', String(q.since));
  }
  return url.toString();
}

export type Connection = 'connecting' | 'live' | 'disconnected' | 'expired';

export interface LiveScopeOptions {
  team: string;
  service?: string;
  protocols: () => Promise<string[]>;
  onChange: (state: ScopeState, connection: Connection, lastMessageAt: number | null) => void;
  /** When the stream was closed because the token expired (4001) and no fresh one is at hand. */
  onExpired?: () => void;
  origin?: string;
}

/** Backoff between reconnects: 0.25 s doubling to 4 s. */
export function reconnectDelay(attempt: number): number {
  return Math.min(4_000, 250 * 2 ** Math.max(0, attempt));
}

export class LiveScope {
  private state = emptyScope();
  private ws: WebSocket | null = null;
  private attempt = 0;
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private connection: Connection = 'connecting';
  private lastMessageAt: number | null = null;

  constructor(private readonly opts: LiveScopeOptions) {}

  start(): void {
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.ws?.close(1000);
    this.ws = null;
  }

  private notify(): void {
    this.opts.onChange(this.state, this.connection, this.lastMessageAt);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let protocols: string[];
    try {
      protocols = await this.opts.protocols();
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status === 401) return this.expire();
      return this.retry();
    }
    if (this.stopped) return;
    const url = streamUrl(this.opts.origin ?? location.origin, {
      team: this.opts.team,
      ...(this.opts.service ? { service: this.opts.service } : {}),
      epoch: this.state.epoch,
      since: this.state.seq,
    });
    const ws = new WebSocket(url, protocols);
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.connection = 'live';
      this.notify();
    };
    ws.onmessage = (ev: MessageEvent<string>) => {
      this.lastMessageAt = Date.now();
      this.state = applyMessage(this.state, JSON.parse(ev.data) as StreamMessage, this.opts.team);
      this.notify();
    };
    ws.onclose = (ev: CloseEvent) => {
      if (this.ws !== ws || this.stopped) return;
      this.ws = null;
      if (ev.code === 4001) this.attempt = 0;
      this.retry();
    };
  }

  private retry(): void {
    this.connection = 'disconnected';
    this.notify();
    this.timer = setTimeout(() => void this.connect(), reconnectDelay(this.attempt++));
  }

  private expire(): void {
    this.connection = 'expired';
    this.notify();
    this.opts.onExpired?.();
  }
}
