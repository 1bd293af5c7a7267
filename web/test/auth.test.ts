/** PKCE and the session store of the page. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authorizeUrl, codeChallenge, currentSession, jwtPayload, randomToken, saveSession, signOut } from '../src/auth.js';

function memoryStore(): Storage {
  const m = new Map<string, string>();
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v), removeItem: (k) => void m.delete(k) } as Storage;
}

describe('PKCE', () => {
  it('computes the S256 challenge: base64url(SHA-256(verifier)), as the issuer checks it', async () => {
    const verifier = randomToken();
    expect(await codeChallenge(verifier)).toBe(createHash('sha256').update(verifier).digest('base64url'));
  });

  it('makes verifiers of 43 URL-safe characters, different every time', () => {
    const a = randomToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomToken()).not.toBe(a);
  });

  it('asks for a code with the S256 challenge, and carries no token', () => {
    const url = new URL(authorizeUrl('http://issuer/authorize', { clientId: 'paved', scope: 'openid' }, { redirectUri: 'http://portal/auth/callback', challenge: 'c', state: 's', nonce: 'n' }));
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'paved',
      redirect_uri: 'http://portal/auth/callback',
      scope: 'openid',
      state: 's',
      nonce: 'n',
      code_challenge: 'c',
      code_challenge_method: 'S256',
    });
  });
});

describe('the session', () => {
  it('is kept until the token expires, and removed on sign-out', () => {
    const store = memoryStore();
    saveSession(store, { token: 't', subject: 'alice', expiresAt: 2_000 });
    expect(currentSession(store, 1_000)?.subject).toBe('alice');
    expect(currentSession(store, 2_000)).toBeNull();
    signOut(store);
    expect(currentSession(store, 0)).toBeNull();
  });

  it('reads sub and exp from a JWT payload', () => {
    const payload = Buffer.from(JSON.stringify({ sub: 'alice', exp: 99 })).toString('base64url');
    expect(jwtPayload(`h.${payload}.s`)).toEqual({ sub: 'alice', exp: 99 });
    expect(() => jwtPayload('nope')).toThrow(/not a JWT/);
  });
});
