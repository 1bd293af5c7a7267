/**
 * Sign-in: the OIDC authorization code flow with PKCE (S256) against the configured issuer, as a
 * public client. The token lives in sessionStorage only (this tab, gone when it closes), never in a URL
 * or localStorage; the code in the callback URL is single-use and removed from the address bar at once.
 * Without OIDC the server runs the loopback-only local mode and there is nothing to sign in to.
 */
export type PortalConfig = { mode: 'local' } | { mode: 'oidc'; issuer: string; clientId: string; scope: string };

export interface Session {
  token: string;
  subject: string;
  /** ms since the epoch. */
  expiresAt: number;
}

/** Where the pending sign-in (verifier, state) and the session are kept: sessionStorage in the page. */
export type KeyValueStore = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

const SESSION_KEY = 'paved.session';
const PENDING_KEY = 'paved.signin';
export const CALLBACK_PATH = '/auth/callback';

export function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A fresh random string (43 characters: 32 random bytes). */
export function randomToken(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** The S256 code challenge of a verifier (RFC 7636). */
export async function codeChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** The payload of a JWT (not verified: the API verifies; the page only reads `sub` and `exp`). */
export function jwtPayload(token: string): { sub?: string; exp?: number; nonce?: string } {
  const part = token.split('.')[1];
  if (!part) throw new Error('the token is not a JWT');
  const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
  return JSON.parse(json) as { sub?: string; exp?: number; nonce?: string };
}

export function authorizeUrl(endpoint: string, cfg: { clientId: string; scope: string }, p: { redirectUri: string; challenge: string; state: string; nonce: string }): string {
  const url = new URL(endpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', cfg.clientId);
  url.searchParams.set('redirect_uri', p.redirectUri);
  url.searchParams.set('scope', cfg.scope);
  url.searchParams.set('state', p.state);
  url.searchParams.set('nonce', p.nonce);
  url.searchParams.set('code_challenge', p.challenge);
  url.searchParams.set('code_challenge_method', 'S256');
  return url.toString();
}

interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
}

async function discover(issuer: string): Promise<Discovery> {
  const res = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error(`the issuer's discovery document answered HTTP ${res.status}`);
  return (await res.json()) as Discovery;
}

/** Starts the sign-in: remembers verifier and state in the session, then leaves for the issuer. */
export async function beginSignIn(cfg: Extract<PortalConfig, { mode: 'oidc' }>, store: KeyValueStore, returnTo: string): Promise<void> {
  const d = await discover(cfg.issuer);
  const verifier = randomToken();
  const state = randomToken();
  const nonce = randomToken();
  store.setItem(PENDING_KEY, JSON.stringify({ verifier, state, nonce, returnTo, tokenEndpoint: d.token_endpoint }));
  const redirectUri = `${location.origin}${CALLBACK_PATH}`;
  location.assign(authorizeUrl(d.authorization_endpoint, cfg, { redirectUri, challenge: await codeChallenge(verifier), state, nonce }));
}

/** Finishes the sign-in on the callback page: checks the state, trades the code, keeps the token. Returns where to go. */
export async function completeSignIn(cfg: Extract<PortalConfig, { mode: 'oidc' }>, store: KeyValueStore, search: URLSearchParams): Promise<string> {
  const pending = JSON.parse(store.getItem(PENDING_KEY) ?? 'null') as { verifier: string; state: string; nonce: string; returnTo: string; tokenEndpoint: string } | null;
  store.removeItem(PENDING_KEY);
  if (search.get('error')) throw new Error(`the issuer refused the sign-in: ${search.get('error_description') ?? search.get('error')}`);
  if (!pending) throw new Error('no sign-in was started in this tab');
  if (search.get('state') !== pending.state) throw new Error('the sign-in response does not match the request (state)');
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code: search.get('code') ?? '',
    redirect_uri: `${location.origin}${CALLBACK_PATH}`,
    client_id: cfg.clientId,
    code_verifier: pending.verifier,
  });
  const res = await fetch(pending.tokenEndpoint, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const json = (await res.json()) as { id_token?: string; error_description?: string; error?: string };
  if (!res.ok || !json.id_token) throw new Error(`the issuer refused the code: ${json.error_description ?? json.error ?? res.status}`);
  const claims = jwtPayload(json.id_token);
  if (claims.nonce !== undefined && claims.nonce !== pending.nonce) throw new Error('the token does not match the request (nonce)');
  saveSession(store, { token: json.id_token, subject: claims.sub ?? '', expiresAt: (claims.exp ?? 0) * 1000 });
  return pending.returnTo || '/';
}

export function saveSession(store: KeyValueStore, s: Session): void {
  store.setItem(SESSION_KEY, JSON.stringify(s));
}

/** The session, while its token is valid. */
export function currentSession(store: KeyValueStore, now = Date.now()): Session | null {
  const s = JSON.parse(store.getItem(SESSION_KEY) ?? 'null') as Session | null;
  if (!s || s.expiresAt <= now) return null;
  return s;
}

export function signOut(store: KeyValueStore): void {
  store.removeItem(SESSION_KEY);
}
