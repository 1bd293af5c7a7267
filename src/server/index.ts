/**
 * The live API: REST under /api/v1, the WebSocket stream of intent versus reality, OIDC team scoping.
 *
 * Wiring (main.ts):
 * ```ts
 * const hub = new StreamHub();
 * const sources = { teams, webServices, deployments, httpRoutes };         // src/kube informers
 * const feed = startFeed({ sources, hub, logger });                         // informer events -> hub
 * const authMode = authModeFromConfig(config);
 * const writer = createResourceWriter({ kubeConfig, reviewCallers: authMode.kind === 'oidc' });
 * const api = createApp({ sources, hub, writer, auth: authMode, roles: rolesFromConfig(config), logger,
 *                         routes: [{ path: '/cost', app: costRoutes, servesWhileSyncing: true }], preview, projectMonthlyCost });
 * const server = await startServer({ api, authMode: authMode.kind, port: config.PAVED_HTTP_PORT,
 *                                    host: config.PAVED_HTTP_HOST, logger });
 * // shutdown: feed.stop(); await server.close();
 * ```
 */
export { createApp, type AppDeps, type ApiApp, type RouteModule } from './app.js';
export { startServer, authModeFromConfig, portalFromConfig, rolesFromConfig, selectProtocol, type RunningServer, type ServeOptions } from './serve.js';
export { registerPortal, contentSecurityPolicy, DEFAULT_PORTAL_DIR, type PortalAuth, type PortalOptions } from './portal.js';
export { StreamHub, CLOSE_SLOW_CONSUMER, type StreamMessage, type StreamScope, type HubOptions, type HubStats } from './hub.js';
export { startFeed, buildView, type Feed } from './feed.js';
export { createResourceWriter, API_FIELD_MANAGER, type ResourceWriter } from './writer.js';
export { createOidcVerifier, TicketStore, STREAM_PROTOCOL, type AuthMode, type TokenVerifier } from './auth.js';
export { MemoryCache, sourcesSynced, type ServerSources, type WatchedCache } from './sources.js';
export type { PreviewFn, PreviewResult, CostFn, CostProjection } from './routes/context.js';
export type { ServiceView, Intent, Reality } from './view.js';
export type { Caller, ApiEnv } from '../access/index.js';
export { canReadTeam, canWriteTeam } from '../access/index.js';
export { rendererPreview, requestsCostProjection } from './preview.js';
