/**
 * `GET /api/v1/stream`: the WebSocket end of the hub. Query: `team` (required), `service`
 * (`namespace/name`, optional), and to resume `epoch` + `since` (the last `seq` the client processed).
 * Credentials come from the auth middleware (Sec-WebSocket-Protocol `bearer.<jwt>` or `ticket.<id>`,
 * never the URL); the scope is authorised before the upgrade, so a forbidden team is a plain 403.
 *
 * Heartbeats: every open socket is pinged once each `heartbeatMs`; a socket that has not answered the
 * previous ping is terminated (a dead peer, e.g. a laptop that went to sleep). The sockets are pinged in
 * slices, one slice every 250 ms (120 slices of a 30 s interval), so thousands of pings (and their
 * pongs) never land in one burst that would hold up a fan-out: ten slices of 5,000 sockets were 500
 * pings and pongs at once, several ms in front of whatever delta came next. The timer runs only while
 * sockets are open and never keeps the process alive.
 *
 * A stream lives no longer than the token it was opened with: at the token's `exp` it is closed with
 * 4001 ("token expired"), and the client reconnects with a fresh token (and `since`), which re-checks
 * team membership.
 *
 * A slow consumer is closed by the hub (code 4008 and a reason); the socket is then terminated after
 * `closeGraceMs` if the close handshake does not finish, so a stuck peer cannot hold its buffer.
 */
import type { Context, MiddlewareHandler } from 'hono';
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
  /** Authorises upgrade requests (the app answers them; serve.ts completes the handshake). */
  handler: MiddlewareHandler<ApiEnv>;
  /**
   * After the app answered an upgrade request: the opener of the stream it admitted (taken once), or
   * undefined when the app refused or routed it elsewhere. serve.ts calls it with the WebSocket and the
   * TCP socket the upgrade arrived on, once ws completed the handshake.
   */
  admitted(req: IncomingMessage): ((ws: WebSocket, tcp: Socket) => void) | undefined;
  /** Open sockets. */
  connections(): number;
  /** Closes every socket and stops the heartbeat (server shutdown). */
  close(): void;
}

/** A heartbeat tick pings one slice; an interval has as many slices as ticks fit in it. */
const HEARTBEAT_TICK_MS = 250;

/**
 * One open socket's state, the only per-socket object besides ws's and the hub's own. Its listeners are
 * shared functions (ws calls them with `this` = the socket), not closures per socket: at thousands of
 * sockets, every retained byte per socket counts (docs/operations.md, stream memory).
 */
interface Peer {
  alive: boolean;
  slice: Set<WebSocket>;
  subscription: Subscription;
  cancelExpiry: (() => void) | undefined;
}

/** Pings sockets, a slice at a time, and terminates the ones that stopped answering. */
class Heartbeat {
  private readonly peers = new Map<WebSocket, Peer>();
  private readonly slices: Array<Set<WebSocket>>;
  private turn = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The shared pong listener. */
  readonly onPong: (this: WebSocket) => void;

  constructor(
    private readonly intervalMs: number,
    private readonly onDead: (ws: WebSocket) => void,
  ) {
    this.slices = Array.from({ length: Math.max(1, Math.round(intervalMs / HEARTBEAT_TICK_MS)) }, () => new Set());
    const peers = this.peers;
    this.onPong = function (this: WebSocket) {
      const peer = peers.get(this);
      if (peer) peer.alive = true;
    };
  }

  add(ws: WebSocket, peer: Omit<Peer, 'alive' | 'slice'>): void {
    // The smallest slice, so slices stay even as sockets come and go.
    const slice = this.slices.reduce((a, b) => (b.size < a.size ? b : a));
    slice.add(ws);
    this.peers.set(ws, { alive: true, slice, ...peer });
    ws.on('pong', this.onPong);
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), Math.max(1, this.intervalMs / this.slices.length));
      this.timer.unref();
    }
  }

  get(ws: WebSocket): Peer | undefined {
    return this.peers.get(ws);
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
    this.turn = (this.turn + 1) % this.slices.length;
    for (const ws of slice) {
      const peer = this.peers.get(ws);
      if (!peer) continue;
      if (!peer.alive) {
        this.onDead(ws);
        // terminate() emits 'close' (after the socket closes), which ends the subscription.
        ws.terminate();
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
 * TCP socket under the WebSocket: the one ws itself writes to. A frame is one write, so it never
 * interleaves with ws's own frames (pings, close). ws is bypassed only on a socket without extensions
 * (serve.ts turns permessage-deflate off, so ws would neither queue nor compress); otherwise ws sends.
 * A send after close is dropped, as ws drops it. A class, so its methods are shared, not closures per
 * socket.
 */
class TcpSink implements StreamSink {
  constructor(
    private readonly ws: WebSocket,
    private readonly tcp: Socket,
    private readonly frame: (text: string) => Buffer,
    private readonly closeSocket: (ws: WebSocket, code: number, reason: string) => void,
  ) {}

  send(text: string): void {
    if (this.ws.readyState === this.ws.OPEN && !this.tcp.destroyed) this.tcp.write(this.frame(text));
  }

  /** The frames wait in the TCP socket's queue (ws's getter would add its sender's, always empty here). */
  bufferedAmount(): number {
    return this.tcp.writableLength;
  }

  close(code: number, reason: string): void {
    this.closeSocket(this.ws, code, reason);
  }
}

/** The sink of a socket with extensions: ws frames (and compresses) each message itself. */
class WsSink implements StreamSink {
  constructor(
    private readonly ws: WebSocket,
    private readonly closeSocket: (ws: WebSocket, code: number, reason: string) => void,
  ) {}

  send(text: string): void {
    this.ws.send(text);
  }

  bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  close(code: number, reason: string): void {
    this.closeSocket(this.ws, code, reason);
  }
}

/** What the endpoint admitted for one upgrade request; the subscription opens once the handshake completes. */
interface Admission {
  who: string;
  scope: StreamScope;
  resume: ResumeFrom | undefined;
  expiresAt: number | undefined;
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
  // Keyed by the upgrade request, which nothing keeps once the handshake is done (or abandoned).
  const admissions = new WeakMap<IncomingMessage, Admission>();

  // Shared listeners (`this` is the socket): no closure per socket.
  function onSocketClose(this: WebSocket): void {
    const peer = heartbeat.get(this);
    if (!peer) return;
    peer.cancelExpiry?.();
    peer.subscription.close();
    heartbeat.delete(this);
    opts.metrics?.streamClients.dec();
  }
  function onSocketError(err: Error): void {
    opts.logger?.debug({ err: describeError(err) }, 'stream: socket error');
  }

  // Authorised here (the auth middleware before it set `caller`), upgraded by serve.ts once the app has
  // answered. A request that is no upgrade gets the same checks, then goes on to the 426 answer.
  const handler: MiddlewareHandler<ApiEnv> = async (c, next) => {
    const caller = c.get('caller');
    requireStreamProtocol(c);
    const { scope, resume } = readStreamQuery(c.req.query());
    if (!canReadTeam(caller, scope.team)) throw forbidden(`caller may not read team ${scope.team}`);
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') return next();
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    if (!incoming) throw new Error('stream: an upgrade request without its IncomingMessage (serve.ts passes it)');
    admissions.set(incoming, { who: caller.subject, scope, resume, expiresAt: callerExpiry(caller) });
    // Empty 200: serve.ts completes the handshake (101) for an admitted request.
    return c.body(null, 200);
  };

  const open = (admission: Admission, ws: WebSocket, tcp: Socket): void => {
    opts.metrics?.streamClients.inc();
    const sink = ws.extensions === '' ? new TcpSink(ws, tcp, frame, closeSocket) : new WsSink(ws, closeSocket);
    const subscription = opts.hub.subscribe(admission.scope, sink, admission.resume);
    // A stream lives no longer than its token: team membership is re-checked on reconnect.
    const { expiresAt } = admission;
    const cancelExpiry = expiresAt === undefined ? undefined : onTokenExpiry(expiresAt, () => closeSocket(ws, CLOSE_TOKEN_EXPIRED, 'token expired'));
    heartbeat.add(ws, { subscription, cancelExpiry });
    ws.on('close', onSocketClose);
    ws.on('error', onSocketError);
    opts.logger?.debug({ who: admission.who, scope: admission.scope }, 'stream: subscribed');
  };

  return {
    handler,
    admitted: (req) => {
      const admission = admissions.get(req);
      if (!admission) return undefined;
      admissions.delete(req);
      return (ws, tcp) => open(admission, ws, tcp);
    },
    connections: () => heartbeat.size(),
    close: () => {
      opts.hub.closeAll();
      for (const ws of heartbeat.sockets()) {
        onSocketClose.call(ws);
        closeSocket(ws, 1001, 'server shutting down');
      }
    },
  };
}
