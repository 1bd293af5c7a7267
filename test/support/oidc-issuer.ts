/**
 * A local OIDC issuer on loopback for tests: generates an RS256 key pair (and a second, unpublished one
 * for "mis-signed" tokens), serves `/.well-known/openid-configuration` and the JWKS, and mints tokens
 * with chosen subject, groups, audience and expiry.
 */
import { createServer, type Server } from 'node:http';
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

/** Starts an issuer on 127.0.0.1 (random port). */
export async function startOidcIssuer(opts: { audience?: string } = {}): Promise<OidcIssuer> {
  const audience = opts.audience ?? 'paved';
  const kid = 'test-key-1';
  const good = await generateKeyPair('RS256', { extractable: true });
  const bad = await generateKeyPair('RS256', { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(good.publicKey)), kid, alg: 'RS256', use: 'sig' };
  let fetches = 0;
  let issuer = '';

  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks`, id_token_signing_alg_values_supported: ['RS256'] }));
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
