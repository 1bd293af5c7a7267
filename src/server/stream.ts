/**
 * `GET /api/v1/stream`: the WebSocket end of the hub. Query: `team` (required), `service`
 * (`namespace/name`, optional), and to resume `epoch` + `since` (the last `seq` the client processed).
 * Credentials come from the auth middleware (Sec-WebSocket-Protocol `bearer.<jwt>` or `ticket.<id>`,
 * never the URL); the scope is authorised before the upgrade, so a forbidden team is a plain 403.
 *
 * Heartbeats: every open socket is pinged once each `heartbeatMs`; a socket that has not answered the
 * previous ping is terminated (a dead peer, e.g. a laptop that went to sleep). The sockets are pinged in
 * ten slices, one slice each tenth of the interval, so thousands of pings (and their pongs) never land
 * in one burst that would hold up a fan-out. The timer runs only while sockets are open and never keeps
 * the process alive.
 *
 * A stream lives no longer than the token it was opened with: at the token's `exp` it is closed with
 * 4001 ("token expired"), and the client reconnects with a fresh token (and `since`), which re-checks
 * team membership.
 *
 * A slow consumer is closed by the hub (code 4008 and a reason); the socket is then terminated after
 * `closeGraceMs` if the close handshake does not finish, so a stuck peer cannot hold its buffer.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { upgradeWebSocket } from '@hono/node-server';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Logger } from '../log.js';
import { ApiError, ErrorCode, forbidden } from './api-error.js';
import { STREAM_PROTOCOL, callerExpiry } from './auth.js';
import { canReadTeam, type ApiEnv } from '../access/index.js';
import { describeError } from '../errors.js';
import type { ResumeFrom, StreamHub, StreamScope, StreamSink, Subscription } from './hub.js';
import type { ApiMetrics } from './metrics.js';
import { lastFrameEncoder } from './frame.js';

/** Close code for a stream whose token expired: reconnect with a fresh token (and `since`). */
export const CLOSE_TOKEN_EXPIRED = 4001;

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Options of the stream endpoint. */
export interface StreamEndpointOptions {
  hub: StreamHub;
  /** Ping interval; a peer silent for a whole interval is terminated. Default 30 s. */
  heartbeatMs?: number;
  /** How long a socket closed by the server may take to finish the close handshake. Default 5 s. */
  closeGraceMs?: number;
  metrics?: ApiMetrics;
  logger?: Logger;
}

/** The endpoint: a Hono handler plus its connection bookkeeping. */
export interface StreamEndpoint {
  handler: MiddlewareHandler<ApiEnv>;
  /** Open sockets. */
  connections(): number;
  /** Closes every socket and stops the heartbeat (server shutdown). */
  close(): void;
}

/** Heartbeat slices: each tick of a tenth of the interval pings one of them. */
const HEARTBEAT_SLICES = 10;

/** Pings sockets, a slice at a time, and terminates the ones that stopped answering. */
class Heartbeat {
  private readonly peers = new Map<WebSocket, { alive: boolean; slice: Set<WebSocket> }>();
  private readonly slices: Array<Set<WebSocket>> = Array.from({ length: HEARTBEAT_SLICES }, () => new Set());
  private turn = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly onDead: (ws: WebSocket) => void,
  ) {}

  add(ws: WebSocket): void {
    // The smallest slice, so slices stay even as sockets come and go.
    const slice = this.slices.reduce((a, b) => (b.size < a.size ? b : a));
    const peer = { alive: true, slice };
    slice.add(ws);
    this.peers.set(ws, peer);
    ws.on('pong', () => (peer.alive = true));
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), Math.max(1, this.intervalMs / HEARTBEAT_SLICES));
      this.timer.unref();
    }
  }

  delete(ws: WebSocket): void {
    this.peers.get(ws)?.slice.delete(ws);
    this.peers.delete(ws);
    if (this.peers.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  size(): number {
    return this.peers.size;
  }

  sockets(): WebSocket[] {
    return [...this.peers.keys()];
  }

  private tick(): void {
    const slice = this.slices[this.turn] as Set<WebSocket>;
    this.turn = (this.turn + 1) % HEARTBEAT_SLICES;
    for (const ws of slice) {
      const peer = this.peers.get(ws);
      if (!peer) continue;
      if (!peer.alive) {
        this.onDead(ws);
        ws.terminate();
        this.delete(ws);
        continue;
      }
      peer.alive = false;
      try {
        ws.ping();
      } catch {
        // The socket is closing; its close event cleans up.
      }
    }
  }
}

/** Reads and checks the subscription of a stream request. */
export function readStreamQuery(query: Record<string, string | undefined>): { scope: StreamScope; resume?: ResumeFrom } {
  const team = query['team'];
  if (!team) throw new ApiError(400, ErrorCode.BadRequest, 'query parameter "team" is required', 'team');
  const scope: StreamScope = { team };
  const service = query['service'];
  if (service !== undefined) {
    if (!/^[a-z0-9-]+\/[a-z0-9-]+$/.test(service)) {
      throw new ApiError(400, ErrorCode.BadRequest, 'service must be "namespace/name"', 'service');
    }
    scope.service = service;
  }
  const since = query['since'];
  const epoch = query['epoch'];
  if (since === undefined) return { scope };
  const n = Number(since);
  if (!Number.isInteger(n) || n < 0) throw new ApiError(400, ErrorCode.BadRequest, 'since must be a non-negative integer', 'since');
  return { scope, resume: { epoch: epoch ?? '', since: n } };
}

/** True when a Sec-WebSocket-Protocol header offers `paved.v1`. */
export function offersStreamProtocol(header: string | undefined): boolean {
  return (header ?? '').split(',').some((p) => p.trim() === STREAM_PROTOCOL);
}

/** docs/api.md promises this: a client that does not speak paved.v1 is refused before the upgrade. */
function requireStreamProtocol(c: Context<ApiEnv>): void {
  if (c.req.header('upgrade')?.toLowerCase() === 'websocket' && !offersStreamProtocol(c.req.header('sec-websocket-protocol'))) {
    throw new ApiError(
      400,
      ErrorCode.BadRequest,
      `Sec-WebSocket-Protocol: offer the subprotocol "${STREAM_PROTOCOL}" (plus bearer.<jwt> or ticket.<id>)`,
      'Sec-WebSocket-Protocol',
    );
  }
}

/**
 * Calls `onExpired` at `expiresAt` (epoch ms); returns the cancel. setTimeout overflows past 2^31-1 ms
 * (about 24.8 days), so long-lived tokens are waited for in steps.
 */
function onTokenExpiry(expiresAt: number, onExpired: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const left = expiresAt - Date.now();
    timer = setTimeout(() => (left > MAX_TIMER_MS ? arm() : onExpired()), Math.min(Math.max(0, left), MAX_TIMER_MS));
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}

/**
 * A socket's sink. Each message's frame is built once per fan-out (frame.ts) and written straight to the
 * TCP socket under the WebSocket: the one ws itself writes to (the upgrade request's). A frame is one
 * write, so it never interleaves with ws's own frames (pings, close). ws is bypassed only on a socket
 * without extensions (serve.ts turns permessage-deflate off, so ws would neither queue nor compress);
 * otherwise ws sends. A send after close is dropped, as ws drops it.
 */
function socketSink(ws: WebSocket, tcp: Socket | undefined, frame: (text: string) => Buffer, close: StreamSink['close']): StreamSink {
  if (tcp === undefined || ws.extensions !== '') {
    return { send: (text) => ws.send(text), bufferedAmount: () => ws.bufferedAmount, close };
  }
  return {
    send: (text) => {
      if (ws.readyState === ws.OPEN && !tcp.destroyed) tcp.write(frame(text));
    },
    // The frames wait in the TCP socket's queue (ws's getter would add its sender's, always empty here).
    bufferedAmount: () => tcp.writableLength,
    close,
  };
}

/** Builds the stream endpoint. */
export function createStreamEndpoint(opts: StreamEndpointOptions): StreamEndpoint {
  const closeGraceMs = opts.closeGraceMs ?? 5_000;
  const heartbeat = new Heartbeat(opts.heartbeatMs ?? 30_000, (ws) => {
    opts.metrics?.streamDeadPeers.inc();
    opts.logger?.info({ peer: (ws as unknown as { _socket?: { remoteAddress?: string } })._socket?.remoteAddress }, 'stream: dead peer terminated');
  });

  const closeSocket = (ws: WebSocket, code: number, reason: string): void => {
    try {
      ws.close(code, reason);
    } catch {
      // Already closing.
    }
    setTimeout(() => ws.terminate(), closeGraceMs).unref();
  };

  const frame = lastFrameEncoder();

  const handler = upgradeWebSocket((untyped) => {
    // upgradeWebSocket types its context loosely; the auth middleware before it set `caller` (ApiEnv).
    const c = untyped as Context<ApiEnv>;
    const caller = c.get('caller');
    requireStreamProtocol(c);
    const { scope, resume } = readStreamQuery(c.req.query());
    if (!canReadTeam(caller, scope.team)) throw forbidden(`caller may not read team ${scope.team}`);
    let subscription: Subscription | undefined;
    let raw: WebSocket | undefined;
    let cancelExpiry: (() => void) | undefined;
    const expiresAt = callerExpiry(caller);
    // The TCP socket the upgrade arrived on, which ws takes over (node-server passes it as env.incoming).
    const tcp = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket;
    return {
      onOpen(_evt, ws) {
        raw = ws.raw as unknown as WebSocket;
        const socket = raw;
        heartbeat.add(socket);
        opts.metrics?.streamClients.inc();
        const sink = socketSink(socket, tcp, frame, (code, reason) => closeSocket(socket, code, reason));
        subscription = opts.hub.subscribe(scope, sink, resume);
        // A stream lives no longer than its token: team membership is re-checked on reconnect.
        if (expiresAt !== undefined) cancelExpiry = onTokenExpiry(expiresAt, () => closeSocket(socket, CLOSE_TOKEN_EXPIRED, 'token expired'));
        opts.logger?.debug({ who: caller.subject, scope }, 'stream: subscribed');
      },
      onClose() {
        cancelExpiry?.();
        subscription?.close();
        if (raw) {
          heartbeat.delete(raw);
          opts.metrics?.streamClients.dec();
        }
      },
      onError(evt) {
        const error = (evt as { error?: unknown }).error;
        opts.logger?.debug({ err: error === undefined || error === null ? evt.type : describeError(error) }, 'stream: socket error');
      },
    };
    // Errors thrown by the handlers above (node-server's default would print them with console.error).
  }, { onError: (err) => opts.logger?.error({ err: String(err) }, 'stream: handler failed') }) as unknown as MiddlewareHandler<ApiEnv>;

  return {
    handler,
    connections: () => heartbeat.size(),
    close: () => {
      opts.hub.closeAll();
      for (const ws of heartbeat.sockets()) {
        heartbeat.delete(ws);
        closeSocket(ws, 1001, 'server shutting down');
      }
    },
  };
}
