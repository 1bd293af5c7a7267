/**
 * Authentication pieces: the OIDC verifier's key caching and claims, stream tickets, credentials in
 * Sec-WebSocket-Protocol, and how a Caller is built from groups and Teams.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TicketStore, callerExpiry, createOidcVerifier, readGroups, readProtocolCredentials } from '../../src/server/auth.js';
import { resolveCaller } from '../../src/access/index.js';
import { startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.js';
import { roles, team } from './fixtures.js';

let issuer: OidcIssuer;
beforeAll(async () => {
  issuer = await startOidcIssuer();
});
afterAll(async () => {
  await issuer.stop();
});

describe('createOidcVerifier', () => {
  it('fetches the JWKS once for many tokens and returns subject, groups and expiry', async () => {
    const verifier = createOidcVerifier({ issuer: issuer.issuer, audience: issuer.audience });
    const before = issuer.jwksFetches();
    for (let i = 0; i < 5; i++) {
      const id = await verifier.verify(await issuer.mint({ subject: `u${i}`, groups: ['g'] }));
      expect(id).toMatchObject({ subject: `u${i}`, groups: ['g'] });
      expect(id.expiresAt).toBeGreaterThan(Date.now());
    }
    expect(issuer.jwksFetches() - before).toBe(1);
  });

  it('fails closed when the issuer cannot be reached, and recovers once it can', async () => {
    const verifier = createOidcVerifier({ issuer: 'http://127.0.0.1:9', audience: 'x' });
    await expect(verifier.verify(await issuer.mint({ subject: 'a' }))).rejects.toMatchObject({ status: 401, code: 'Unauthenticated' });
  });
});

describe('tickets', () => {
  it('are single-use and expire', () => {
    let now = 1_000;
    const store = new TicketStore(30_000, 3, () => now);
    const caller = resolveCaller('alice', ['team-a'], [team('team-a', ['team-a'])], roles);
    const { ticket } = store.issue(caller);
    expect(store.redeem(ticket)).toBe(caller);
    expect(store.redeem(ticket)).toBeUndefined();
    const late = store.issue(caller).ticket;
    now += 30_001;
    expect(store.redeem(late)).toBeUndefined();
  });

  it('are bounded per caller: the caller\'s own oldest goes first', () => {
    const store = new TicketStore(30_000, 100, () => 0, 2);
    const caller = resolveCaller('a', [], [], roles);
    const first = store.issue(caller).ticket;
    store.issue(caller);
    store.issue(caller);
    expect(store.size()).toBe(2);
    expect(store.redeem(first)).toBeUndefined();
  });
});

describe('credentials and callers', () => {
  it('reads bearer and ticket from Sec-WebSocket-Protocol', () => {
    expect(readProtocolCredentials('paved.v1, bearer.abc.def-ghi_jkl')).toEqual({ bearer: 'abc.def-ghi_jkl' });
    expect(readProtocolCredentials('paved.v1,ticket.xyz')).toEqual({ ticket: 'xyz' });
    expect(readProtocolCredentials(undefined)).toEqual({});
  });

  it('reads plain, nested and single-string group claims', () => {
    expect(readGroups({ groups: ['a', 1, 'b'] }, 'groups')).toEqual(['a', 'b']);
    expect(readGroups({ realm_access: { roles: ['x'] } }, 'realm_access.roles')).toEqual(['x']);
    expect(readGroups({ g: 'solo' }, 'g')).toEqual(['solo']);
    expect(readGroups({}, 'groups')).toEqual([]);
  });

  it('matches users and groups against owners and members, and sets the platform roles', () => {
    const teams = [
      team('shop', ['shop-devs']),
      { ...team('pay', []), spec: { owners: { users: ['carol'] }, members: { groups: ['pay-devs'] }, costCenter: 'c', quota: { tier: 'small' } } } as never,
    ];
    expect(resolveCaller('carol', [], teams, roles).teams).toEqual(['pay']);
    expect(resolveCaller('dan', ['pay-devs', 'shop-devs'], teams, roles).teams).toEqual(['pay', 'shop']);
    expect(resolveCaller('root', ['paved:platform-admins'], teams, roles)).toMatchObject({ teams: [], isPlatformAdmin: true, isFinance: false });
    expect(resolveCaller('fin', ['paved:finance'], teams, roles)).toMatchObject({ isPlatformAdmin: false, isFinance: true });
    expect(callerExpiry(resolveCaller('x', [], [], roles))).toBeUndefined();
  });
});
