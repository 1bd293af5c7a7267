/**
 * Starts the API on @hono/node-server v2, with WebSocket upgrades on a `ws` WebSocketServer in noServer
 * mode: each upgrade request is routed through the Hono app first, so auth and scope checks run before
 * the handshake completes (upgradeListener).
 *
 * Binding: with OIDC the API listens where configured (default all interfaces). Without OIDC every
 * caller is `local-admin`, so the API binds to 127.0.0.1 whatever the configuration says, and logs it.
 */
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createAdaptorServer, type ServerType } from '@hono/node-server';
import { WebSocketServer } from 'ws';
import type { PavedConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { ApiApp } from './app.js';
import { STREAM_PROTOCOL, createOidcVerifier, type AuthMode } from './auth.js';
import type { RoleGroups } from '../access/index.js';
import type { PortalAuth, PortalOptions } from './portal.js';

/** The auth mode the configuration asks for: OIDC when an issuer is set (the audience is then required). */
export function authModeFromConfig(config: PavedConfig): AuthMode {
  if (!config.PAVED_OIDC_ISSUER) return { kind: 'local' };
  if (!config.PAVED_OIDC_AUDIENCE) throw new Error('PAVED_OIDC_AUDIENCE is required when PAVED_OIDC_ISSUER is set');
  return {
    kind: 'oidc',
    verifier: createOidcVerifier({
      issuer: config.PAVED_OIDC_ISSUER,
      audience: config.PAVED_OIDC_AUDIENCE,
      groupsClaim: config.PAVED_OIDC_GROUPS_CLAIM,
    }),
  };
}

/** How the portal signs in, from the configuration (the issuer's client; local mode without OIDC). */
export function portalFromConfig(config: PavedConfig): PortalOptions {
  const auth: PortalAuth = config.PAVED_OIDC_ISSUER
    ? {
        mode: 'oidc',
        issuer: config.PAVED_OIDC_ISSUER,
        clientId: config.PAVED_OIDC_CLIENT_ID ?? config.PAVED_OIDC_AUDIENCE ?? '',
        scope: config.PAVED_OIDC_SCOPE,
      }
    : { mode: 'local' };
  return { auth, ...(config.PAVED_PORTAL_DIR ? { dir: config.PAVED_PORTAL_DIR } : {}) };
}

/** The platform roles from the configuration. */
export function rolesFromConfig(config: PavedConfig): RoleGroups {
  return { adminGroup: config.PAVED_ADMIN_GROUP, financeGroup: config.PAVED_FINANCE_GROUP };
}

/** Options of the server. */
export interface ServeOptions {
  api: ApiApp;
  authMode: AuthMode['kind'];
  port: number;
  /** Requested host; ignored (forced to 127.0.0.1) in local mode. */
  host?: string;
  logger: Logger;
}

/** A running server. */
export interface RunningServer {
  server: ServerType;
  port: number;
  host: string;
  url: string;
  /** Closes the stream sockets, then the HTTP server. */
  close(): Promise<void>;
}

const LOOPBACK = '127.0.0.1';

/** Picks `paved.v1` from the offered subprotocols; never echoes a credential. */
export function selectProtocol(offered: Set<string>): string | false {
  return offered.has(STREAM_PROTOCOL) ? STREAM_PROTOCOL : false;
}

/** The Request the app sees for an upgrade (node-server builds one only for ordinary requests). */
function upgradeRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  for (const [key, value] of Object.entries(req.headers)) if (value !== undefined) headers.append(key, Array.isArray(value) ? value.join(', ') : value);
  const scheme = (req.socket as Socket & { encrypted?: boolean }).encrypted ? 'https' : 'http';
  return new Request(new URL(req.url ?? '/', `${scheme}://${req.headers.host ?? 'localhost'}`), { headers });
}

/**
 * WebSocket upgrades, in ws's noServer pattern. The request goes through the Hono app first (auth, the
 * stream's scope check, request ids), so a refusal is an ordinary API answer, written to the socket
 * with its {code, message} body; a request the stream endpoint admitted is then handed to ws for the
 * handshake. node-server's own WebSocket helper is not used: it keeps the request's whole Hono context
 * (Request, headers, IncomingMessage) alive for as long as the socket is open, several KiB per client.
 */
function upgradeListener(api: ApiApp, wss: WebSocketServer, logger: Logger): (req: IncomingMessage, socket: Socket, head: Buffer) => void {
  const ignore = (): void => undefined;
  const answer = async (req: IncomingMessage): Promise<Response> => {
    let request: Request;
    try {
      request = upgradeRequest(req);
    } catch {
      return Response.json({ code: 'BadRequest', message: 'malformed upgrade request (URL or headers)' }, { status: 400 });
    }
    try {
      return await api.app.fetch(request, { incoming: req, outgoing: undefined });
    } catch (err) {
      logger.error({ err: String(err) }, 'api: upgrade request failed');
      return Response.json({ code: 'Internal', message: 'internal error' }, { status: 500 });
    }
  };
  return (req, socket, head) => {
    // Until ws owns the socket, a peer that resets it must not crash the server.
    socket.on('error', ignore);
    void answer(req).then(async (res) => {
      const open = api.stream.admitted(req);
      if (open === undefined || res.status !== 200) return writeRefusal(socket, res);
      if (socket.destroyed) return;
      wss.handleUpgrade(req, socket, head, (ws) => {
        socket.off('error', ignore);
        open(ws, socket);
      });
    });
  };
}

async function writeRefusal(socket: Socket, res: Response): Promise<void> {
  if (socket.destroyed) return;
  const body = Buffer.from(await res.text(), 'utf8');
  const type = res.headers.get('content-type') ?? 'application/json';
  const head = [
    `HTTP/1.1 ${res.status} ${STATUS_CODES[res.status] ?? ''}`,
    'Connection: close',
    `Content-Type: ${type}`,
    `Content-Length: ${body.length}`,
  ];
  const requestId = res.headers.get('x-request-id');
  if (requestId) head.push(`x-request-id: ${requestId}`);
  socket.end(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body]));
}

/** Starts listening; resolves once the port is bound. */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  let host = opts.host ?? '0.0.0.0';
  if (opts.authMode === 'local') {
    if (opts.host && opts.host !== LOOPBACK && opts.host !== 'localhost') {
      opts.logger.warn({ requested: opts.host }, 'api: OIDC is not configured, ignoring PAVED_HTTP_HOST');
    }
    host = LOOPBACK;
    opts.logger.warn(
      'api: OIDC is not configured (PAVED_OIDC_ISSUER unset): every caller is local-admin, so the API listens on 127.0.0.1 only',
    );
  }
  const wss = new WebSocketServer({ noServer: true, handleProtocols: selectProtocol, maxPayload: 64 * 1024, perMessageDeflate: false });
  const server = createAdaptorServer({ fetch: opts.api.app.fetch });
  server.on('upgrade', upgradeListener(opts.api, wss, opts.logger));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host === '0.0.0.0' ? LOOPBACK : host}:${port}`;
  opts.logger.info({ host, port, auth: opts.authMode }, 'api: listening');
  return {
    server,
    port,
    host,
    url,
    close: async () => {
      opts.api.stream.close();
      // Give clients a moment to answer the close frames, then cut whatever is left.
      const deadline = Date.now() + 1_000;
      while (wss.clients.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
    },
  };
}
