/**
 * Authentication: who is calling. OIDC bearer tokens are verified against the issuer's JWKS (jose
 * `createRemoteJWKSet`, keys cached and refreshed on rotation), with issuer, audience and expiry
 * checked; the groups claim (configurable, dotted paths allowed) and the Teams in the cache make the
 * `Caller` every route reads. Without OIDC the API runs as `local-admin` and must be bound to loopback
 * (serve.ts enforces that).
 *
 * Where the token comes from: `Authorization: Bearer` for REST; for the WebSocket, which browsers cannot
 * give headers, the `Sec-WebSocket-Protocol` list: `['paved.v1', 'bearer.<jwt>']` or
 * `['paved.v1', 'ticket.<id>']` with a single-use ticket from `POST /api/v1/stream/tickets`. Never a
 * query parameter: URLs end up in logs.
 */
import { randomBytes } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { createRemoteJWKSet, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import { z } from 'zod';
import { ApiError, ErrorCode, unauthenticated } from './api-error.js';
import { resolveCaller, type ApiEnv, type Caller, type RoleGroups } from '../access/index.js';
import type { WatchedCache } from './sources.js';

/** The identity in a verified token. */
export interface Identity {
  subject: string;
  groups: string[];
  /** The token's `exp`, in ms since the epoch. */
  expiresAt?: number;
}

/** When the credential behind a Caller expires (streams are closed then). Keyed by the Caller object. */
const expiries = new WeakMap<Caller, number>();

/** The expiry (ms since the epoch) of the token a Caller was made from, if known. */
export function callerExpiry(caller: Caller): number | undefined {
  return expiries.get(caller);
}

/** Verifies a bearer token; throws an ApiError 401 when it is not acceptable. */
export interface TokenVerifier {
  verify(token: string): Promise<Identity>;
}

/** Options of the OIDC verifier. */
export interface OidcOptions {
  issuer: string;
  audience: string;
  /** Claim holding the groups; dotted paths (`realm_access.roles`) are followed. Default `groups`. */
  groupsClaim?: string;
  /** Skip discovery and use this JWKS URL. */
  jwksUri?: string;
  /** Seconds of clock skew tolerated on exp/nbf/iat. Default 30. */
  clockToleranceSeconds?: number;
}

function readClaim(payload: JWTPayload, path: string): unknown {
  let node: unknown = payload;
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

// Control characters (CR/LF above all) would end up in Impersonate-* headers and log lines.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const claimText = (what: string): z.ZodString =>
  z
    .string({ error: `must be a string` })
    .min(1, 'must not be empty')
    .max(256, 'must be at most 256 characters')
    .refine((v) => !CONTROL_CHARACTERS.test(v), `${what} must not contain control characters`);

/** The claims paved reads from a verified token: anything else in a token is ignored. */
export const IdentityClaimsSchema = z.object({
  sub: claimText('the subject'),
  groups: z.union([claimText('a group'), z.array(claimText('a group')).max(1_000, 'must list at most 1000 groups')]).optional(),
  exp: z.number({ error: 'must be a number' }).finite().optional(),
});

/**
 * The identity in a verified payload, or a 401 naming the claim: a token whose `sub` is a number, an
 * object or has CR/LF in it is refused here rather than crashing a write later.
 */
export function identityFromPayload(payload: JWTPayload, groupsClaim = 'groups'): Identity {
  const parsed = IdentityClaimsSchema.safeParse({ sub: payload.sub, groups: readClaim(payload, groupsClaim), exp: payload.exp });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const claim = issue?.path[0] === 'groups' ? groupsClaim : String(issue?.path[0] ?? 'token');
    throw unauthenticated(`token claim "${claim}" rejected: ${issue?.message ?? 'invalid'}`);
  }
  const { sub, groups, exp } = parsed.data;
  return {
    subject: sub,
    groups: groups === undefined ? [] : typeof groups === 'string' ? [groups] : groups,
    ...(exp !== undefined ? { expiresAt: exp * 1000 } : {}),
  };
}

/** The groups in a claim value: an array of strings, or one string. */
export function readGroups(payload: JWTPayload, claim: string): string[] {
  const value = readClaim(payload, claim);
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((g): g is string => typeof g === 'string');
  return [];
}

/** Finds the JWKS URL of an issuer through its discovery document. */
async function discoverJwksUri(issuer: string): Promise<string> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`OIDC discovery ${url}: HTTP ${res.status}`);
  const doc = (await res.json()) as { issuer?: string; jwks_uri?: string };
  if (!doc.jwks_uri) throw new Error(`OIDC discovery ${url}: no jwks_uri`);
  return doc.jwks_uri;
}

/** An OIDC verifier: discovery once (retried on failure), JWKS cached by jose. */
export function createOidcVerifier(opts: OidcOptions): TokenVerifier {
  const groupsClaim = opts.groupsClaim ?? 'groups';
  let jwks: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  const keySet = (): Promise<ReturnType<typeof createRemoteJWKSet>> => {
    if (!jwks) {
      const pending = (opts.jwksUri ? Promise.resolve(opts.jwksUri) : discoverJwksUri(opts.issuer)).then((uri) =>
        createRemoteJWKSet(new URL(uri)),
      );
      // A failed discovery is retried by the next request instead of failing every request after it.
      pending.catch(() => {
        if (jwks === pending) jwks = undefined;
      });
      jwks = pending;
    }
    return jwks;
  };
  return {
    async verify(token: string): Promise<Identity> {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, await keySet(), {
          issuer: opts.issuer,
          audience: opts.audience,
          clockTolerance: opts.clockToleranceSeconds ?? 30,
          requiredClaims: ['sub', 'exp'],
        }));
      } catch (err) {
        throw unauthenticated(describeJoseError(err));
      }
      return identityFromPayload(payload, groupsClaim);
    },
  };
}

function describeJoseError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'token expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `token claim "${err.claim}" rejected: ${err.reason}`;
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'token signature invalid';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'token signed by an unknown key';
  if (err instanceof joseErrors.JOSEError) return `token rejected (${err.code})`;
  return 'token could not be verified';
}

/**
 * Single-use, short-lived WebSocket tickets: a REST call trades a bearer token for one. Bounded twice:
 * per caller (a caller over its limit loses its own oldest ticket, never someone else's) and in total
 * (when full, new tickets are refused with 429 instead of evicting other callers' tickets).
 */
export class TicketStore {
  private readonly tickets = new Map<string, { caller: Caller; expires: number }>();
  constructor(
    private readonly ttlMs = 30_000,
    private readonly maxTickets = 10_000,
    private readonly clock: () => number = Date.now,
    private readonly maxPerCaller = 16,
  ) {}

  /** Issues a ticket for the caller; throws a 429 ApiError when the store is full. */
  issue(caller: Caller): { ticket: string; expiresInSeconds: number } {
    this.sweep();
    const own = [...this.tickets].filter(([, v]) => v.caller.subject === caller.subject);
    // Oldest first: Map iteration order is insertion order.
    for (const [k] of own.slice(0, Math.max(0, own.length - this.maxPerCaller + 1))) this.tickets.delete(k);
    if (this.tickets.size >= this.maxTickets) {
      throw new ApiError(429, ErrorCode.TooManyRequests, `stream tickets: ${this.maxTickets} outstanding tickets; retry in a few seconds`);
    }
    const ticket = randomBytes(24).toString('base64url');
    this.tickets.set(ticket, { caller, expires: this.clock() + this.ttlMs });
    return { ticket, expiresInSeconds: Math.round(this.ttlMs / 1000) };
  }

  /** Redeems a ticket once; undefined when unknown, used or expired. */
  redeem(ticket: string): Caller | undefined {
    const entry = this.tickets.get(ticket);
    this.tickets.delete(ticket);
    if (!entry || entry.expires < this.clock()) return undefined;
    return entry.caller;
  }

  size(): number {
    return this.tickets.size;
  }

  private sweep(): void {
    const now = this.clock();
    for (const [k, v] of this.tickets) if (v.expires < now) this.tickets.delete(k);
  }
}

/** The subprotocol a stream client must offer (and the server selects). */
export const STREAM_PROTOCOL = 'paved.v1';

/** Reads `bearer.<token>` / `ticket.<id>` from a Sec-WebSocket-Protocol header. */
export function readProtocolCredentials(header: string | undefined): { bearer?: string; ticket?: string } {
  const out: { bearer?: string; ticket?: string } = {};
  for (const p of (header ?? '').split(',').map((s) => s.trim())) {
    if (p.startsWith('bearer.')) out.bearer = p.slice('bearer.'.length);
    else if (p.startsWith('ticket.')) out.ticket = p.slice('ticket.'.length);
  }
  return out;
}

/** How the API authenticates. `local` is the loopback-only development mode. */
export type AuthMode = { kind: 'oidc'; verifier: TokenVerifier } | { kind: 'local' };

/** Options of the auth middleware. */
export interface AuthOptions {
  mode: AuthMode;
  teams: Pick<WatchedCache, 'list'>;
  roles: RoleGroups;
  tickets: TicketStore;
}

/** The caller of the loopback-only development mode. */
export function localAdminCaller(roles: RoleGroups): Caller {
  return { subject: 'local-admin', groups: [roles.adminGroup], teams: [], isPlatformAdmin: true, isFinance: false };
}

/** Sets `caller` on the context or answers 401 (via the thrown ApiError). */
export function authMiddleware(opts: AuthOptions): MiddlewareHandler<ApiEnv> {
  return async function authenticate(c, next) {
    if (opts.mode.kind === 'local') {
      c.set('caller', localAdminCaller(opts.roles));
      return next();
    }
    const header = c.req.header('authorization');
    const fromProtocol = readProtocolCredentials(c.req.header('sec-websocket-protocol'));
    let caller: Caller | undefined;
    if (header) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match?.[1]) throw unauthenticated('Authorization header must be "Bearer <token>"');
      caller = await callerFromToken(opts, match[1]);
    } else if (fromProtocol.bearer) {
      caller = await callerFromToken(opts, fromProtocol.bearer);
    } else if (fromProtocol.ticket) {
      caller = opts.tickets.redeem(fromProtocol.ticket);
      if (!caller) throw unauthenticated('stream ticket unknown, used or expired');
    }
    if (!caller) throw unauthenticated('missing bearer token');
    c.set('caller', caller);
    return next();
  };
}

async function callerFromToken(opts: AuthOptions, token: string): Promise<Caller> {
  if (opts.mode.kind !== 'oidc') throw unauthenticated('OIDC is not configured');
  const id = await opts.mode.verifier.verify(token);
  const caller = resolveCaller(id.subject, id.groups, opts.teams.list(), opts.roles);
  if (id.expiresAt !== undefined) expiries.set(caller, id.expiresAt);
  return caller;
}
