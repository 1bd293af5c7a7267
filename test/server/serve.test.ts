/**
 * The server starter: loopback-only without OIDC (and says so), the subprotocol it selects.
 */
import { describe, expect, it } from 'vitest';
import { selectProtocol, startServer } from '../../src/server/serve.js';
import { buildApp, world } from './fixtures.js';

describe('startServer', () => {
  it('binds to 127.0.0.1 without OIDC whatever the configured host, and logs why', async () => {
    const api = buildApp({ sources: world().sources, auth: { kind: 'local' } });
    const server = await startServer({ api, authMode: 'local', port: 0, host: '0.0.0.0', logger: api.log.logger });
    try {
      expect(server.host).toBe('127.0.0.1');
      const warning = api.log.lines().find((l) => String(l['msg']).includes('127.0.0.1 only'));
      expect(warning?.['level']).toBe(40);
      const res = await fetch(`${server.url}/healthz`);
      expect(res.status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('selects paved.v1 and never echoes a credential', () => {
    expect(selectProtocol(new Set(['paved.v1', 'bearer.abc']))).toBe('paved.v1');
    expect(selectProtocol(new Set(['bearer.abc']))).toBe(false);
  });
});
