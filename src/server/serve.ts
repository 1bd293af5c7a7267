/**
 * Starts the API on @hono/node-server v2 with its built-in WebSocket upgrade over a `ws`
 * WebSocketServer (noServer mode: node-server routes the upgrade through the Hono app, so auth and
 * scope checks run before the handshake completes).
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

/**
 * The app's fetch, made to answer refused WebSocket upgrades with their JSON `{code, message}` body.
 * node-server writes refusals itself with an empty body (`Content-Length: 0`), but only while it is the
 * sole `upgrade` listener; serve() adds a second (no-op) one, so refusals are written here instead.
 */
export function withUpgradeRefusalBodies(fetch: ApiApp['app']['fetch']): ApiApp['app']['fetch'] {
  return async (req, env, ctx) => {
    const incoming = (env as { incoming?: IncomingMessage } | undefined)?.incoming;
    const isUpgrade = req.headers.get('upgrade')?.toLowerCase() === 'websocket' && incoming !== undefined;
    if (!isUpgrade) return fetch(req, env, ctx);
    let res: Response;
    try {
      res = await fetch(req, env, ctx);
    } catch {
      res = Response.json({ code: 'Internal', message: 'internal error' }, { status: 500 });
    }
    // node-server's upgrade answer is an empty 200 (the handshake then completes on the socket);
    // anything else (an error, or a route that is no WebSocket) is written out and the socket closed.
    if (res.status >= 300 || res.body !== null) await writeRefusal(incoming.socket, res);
    return res;
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
  const server = createAdaptorServer({ fetch: withUpgradeRefusalBodies(opts.api.app.fetch), websocket: { server: wss } });
  // A second upgrade listener keeps node-server from writing its own empty-bodied refusals (see above).
  server.on('upgrade', () => undefined);
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
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
    },
  };
}
