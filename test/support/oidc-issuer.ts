/**
 * A local OIDC issuer on loopback for tests: generates an RS256 key pair (and a second, unpublished one
 * for "mis-signed" tokens), serves `/.well-known/openid-configuration` and the JWKS, and mints tokens
 * with chosen subject, groups, audience and expiry.
 *
 * It also signs browsers in (the portal): the authorization code flow with PKCE (S256 only) for the
 * users it is given. `/authorize` shows a labelled sign-in form (the user name; no password), its POST
 * redirects to `redirect_uri` with a single-use code and the state, and `/token` trades the code plus the
 * `code_verifier` for an ID token (audience: the client id) after checking the challenge, the client and
 * the redirect URI. CORS is open on `/token`: the page calls it from its own origin.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

/** What a minted token says. */
export interface MintOptions {
  subject: string;
  groups?: string[];
  /** Default: the issuer's audience. */
  audience?: string;
  /** Seconds from now; negative for an expired token. Default 300. */
  expiresInSeconds?: number;
  /** Sign with a key the JWKS does not publish. */
  wrongKey?: boolean;
  /** Override the `iss` claim. */
  issuer?: string;
  /** Name of the groups claim. Default `groups`. */
  groupsClaim?: string;
  /** Raw claims laid over the payload, any JSON shape (hostile tokens: `sub` a number, CR/LF...). */
  claims?: Record<string, unknown>;
}

/** A running issuer. */
export interface OidcIssuer {
  issuer: string;
  audience: string;
  jwksUri: string;
  mint(opts: MintOptions): Promise<string>;
  /** How many times the JWKS was fetched (cache behaviour). */
  jwksFetches(): number;
  stop(): Promise<void>;
}

/** A pending authorization (between /authorize and /token). */
interface PendingCode {
  subject: string;
  clientId: string;
  redirectUri: string;
  challenge: string;
  nonce?: string;
  expires: number;
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function readBody(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

function oauthError(res: ServerResponse, status: number, error: string, description: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
  res.end(JSON.stringify({ error, error_description: description }));
}

/** The sign-in page: the authorization request's parameters ride along as hidden fields. */
function signInPage(params: URLSearchParams, error?: string): string {
  const hidden = ['client_id', 'redirect_uri', 'state', 'code_challenge', 'code_challenge_method', 'nonce', 'scope', 'response_type']
    .map((k) => `<input type="hidden" name="${k}" value="${escapeHtml(params.get(k) ?? '')}">`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test issuer: sign in</title></head><body>
<main><h1>Test issuer</h1>${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/authorize">${hidden}<label for="username">User name</label>
<input id="username" name="username" autocomplete="username"><button type="submit">Sign in</button></form></main></body></html>`;
}

/** Starts an issuer on 127.0.0.1 (random port). `users`: who may sign in through /authorize, with their groups. */
export async function startOidcIssuer(opts: { audience?: string; users?: Record<string, string[]>; tokenSeconds?: number } = {}): Promise<OidcIssuer> {
  const audience = opts.audience ?? 'paved';
  const kid = 'test-key-1';
  const good = await generateKeyPair('RS256', { extractable: true });
  const bad = await generateKeyPair('RS256', { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(good.publicKey)), kid, alg: 'RS256', use: 'sig' };
  let fetches = 0;
  let issuer = '';

  const codes = new Map<string, PendingCode>();
  const users = opts.users ?? {};

  const authorize = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', issuer);
    const params = req.method === 'POST' ? await readBody(req) : url.searchParams;
    const redirectUri = params.get('redirect_uri') ?? '';
    if (params.get('response_type') !== 'code' || !params.get('client_id') || !/^https?:\/\//.test(redirectUri)) {
      return oauthError(res, 400, 'invalid_request', 'response_type=code, client_id and redirect_uri are required');
    }
    if (params.get('code_challenge_method') !== 'S256' || !params.get('code_challenge')) {
      return oauthError(res, 400, 'invalid_request', 'PKCE is required: code_challenge with code_challenge_method=S256');
    }
    const username = params.get('username');
    if (req.method !== 'POST' || username === null) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return void res.end(signInPage(params));
    }
    if (!(username in users)) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return void res.end(signInPage(params, `unknown user "${username}"`));
    }
    const code = randomBytes(18).toString('base64url');
    const nonce = params.get('nonce');
    codes.set(code, {
      subject: username,
      clientId: params.get('client_id') ?? '',
      redirectUri,
      challenge: params.get('code_challenge') ?? '',
      ...(nonce ? { nonce } : {}),
      expires: Date.now() + 60_000,
    });
    const back = new URL(redirectUri);
    back.searchParams.set('code', code);
    back.searchParams.set('state', params.get('state') ?? '');
    res.writeHead(302, { location: back.toString() }).end();
  };

  const token = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const code = body.get('code') ?? '';
    const pending = codes.get(code);
    codes.delete(code);
    if (body.get('grant_type') !== 'authorization_code') return oauthError(res, 400, 'unsupported_grant_type', 'only authorization_code');
    if (!pending || pending.expires < Date.now()) return oauthError(res, 400, 'invalid_grant', 'code unknown, used or expired');
    if (body.get('client_id') !== pending.clientId || body.get('redirect_uri') !== pending.redirectUri) {
      return oauthError(res, 400, 'invalid_grant', 'client_id or redirect_uri does not match the authorization request');
    }
    const challenge = createHash('sha256').update(body.get('code_verifier') ?? '').digest('base64url');
    if (challenge !== pending.challenge) return oauthError(res, 400, 'invalid_grant', 'code_verifier does not match code_challenge');
    const expiresIn = opts.tokenSeconds ?? 3600;
    const idToken = await mint({
      subject: pending.subject,
      groups: users[pending.subject] ?? [],
      audience: pending.clientId,
      expiresInSeconds: expiresIn,
      ...(pending.nonce ? { claims: { nonce: pending.nonce } } : {}),
    });
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'access-control-allow-origin': '*' });
    res.end(JSON.stringify({ id_token: idToken, access_token: idToken, token_type: 'Bearer', expires_in: expiresIn }));
  };

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/authorize') return void authorize(req, res).catch(() => res.writeHead(500).end());
    if (path === '/token' && req.method === 'POST') return void token(req, res).catch(() => res.writeHead(500).end());
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
      res.end(
        JSON.stringify({
          issuer,
          jwks_uri: `${issuer}/jwks`,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          response_types_supported: ['code'],
          grant_types_supported: ['authorization_code'],
          code_challenge_methods_supported: ['S256'],
          id_token_signing_alg_values_supported: ['RS256'],
        }),
      );
      return;
    }
    if (req.url === '/jwks') {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [publicJwk] }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const mint = async (m: MintOptions): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    const key: CryptoKey = m.wrongKey ? bad.privateKey : good.privateKey;
    const raw = m.claims ?? {};
    // A raw claim replaces the setter of the same name (SignJWT's setters only take well-typed values).
    let jwt = new SignJWT({ [m.groupsClaim ?? 'groups']: m.groups ?? [], ...raw }).setProtectedHeader({ alg: 'RS256', kid });
    if (!('sub' in raw)) jwt = jwt.setSubject(m.subject);
    if (!('exp' in raw)) jwt = jwt.setExpirationTime(now + (m.expiresInSeconds ?? 300));
    return jwt
      .setIssuer(m.issuer ?? issuer)
      .setAudience(m.audience ?? audience)
      .setIssuedAt(now - 5)
      .sign(key);
  };

  return {
    issuer,
    audience,
    jwksUri: `${issuer}/jwks`,
    mint,
    jwksFetches: () => fetches,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
