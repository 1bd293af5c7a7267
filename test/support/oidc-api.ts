/**
 * The paved API as main.ts starts it with OIDC, for integration tests: the app over the test's caches,
 * a fresh hub and feed, the real writer (each write reviewed for the caller with a SubjectAccessReview,
 * then made as the namespace's paved-deployer) and the HTTP/WebSocket server on 127.0.0.1. Calling it
 * again gives a fresh "API process" (new hub epoch), as after a restart.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { createApp, type ApiApp, type AppDeps } from '../../src/server/app.js';
import { createOidcVerifier } from '../../src/server/auth.js';
import { startFeed, type Feed } from '../../src/server/feed.js';
import { StreamHub } from '../../src/server/hub.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import type { ServerSources } from '../../src/server/sources.js';
import { createResourceWriter, type ResourceWriter } from '../../src/server/writer.js';
import { capturingLogger, roles } from '../server/fixtures.js';
import { adminKubeConfig } from './cluster.js';
import type { OidcIssuer } from './oidc-issuer.js';

/** What the test chooses; everything else is as main.ts wires it. */
export interface OidcApiOptions {
  issuer: OidcIssuer;
  sources: ServerSources;
  /** The identity the writer writes with (default: the admin kubeconfig). */
  kubeConfig?: KubeConfig;
  /** Replaces the writer altogether. */
  writer?: ResourceWriter;
  /** Default 0 (any free port). */
  port?: number;
  /** Optional parts of the app (cost routes, preview, cost projection, portal). */
  extra?: Pick<AppDeps, 'routes' | 'preview' | 'projectMonthlyCost' | 'portal'>;
}

/** A running API; `stop()` stops the feed and closes the server. */
export interface OidcApi {
  api: ApiApp;
  hub: StreamHub;
  feed: Feed;
  server: RunningServer;
  stop(): Promise<void>;
}

/** Starts the API with OIDC auth against the test issuer. */
export async function startOidcApi(o: OidcApiOptions): Promise<OidcApi> {
  const hub = new StreamHub();
  const logger = capturingLogger().logger;
  const api = createApp({
    sources: o.sources,
    hub,
    writer: o.writer ?? createResourceWriter({ kubeConfig: o.kubeConfig ?? adminKubeConfig(), reviewCallers: true }),
    auth: { kind: 'oidc', verifier: createOidcVerifier({ issuer: o.issuer.issuer, audience: o.issuer.audience }) },
    roles,
    logger,
    registry: new Registry(),
    ...o.extra,
  });
  const feed = startFeed({ sources: o.sources, hub });
  const server = await startServer({ api, authMode: 'oidc', port: o.port ?? 0, host: '127.0.0.1', logger });
  return {
    api,
    hub,
    feed,
    server,
    stop: async () => {
      feed.stop();
      await server.close();
    },
  };
}
