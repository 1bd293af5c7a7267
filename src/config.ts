/**
 * The controller's configuration: parsed once from the environment into one typed, frozen object.
 * No other module reads process.env; everything that varies by deployment comes through here.
 */
import { z } from 'zod';

const csv = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

const envSchema = z.object({
  KUBECONFIG: z.string().optional(),
  /** Set by Kubernetes inside a Pod: the controller then uses its in-cluster service account. */
  KUBERNETES_SERVICE_HOST: z.string().optional(),
  PAVED_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
  /** `json` lines, or `pretty` for a terminal; default: pretty when stdout is a terminal. */
  PAVED_LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  PAVED_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  PAVED_HTTP_HOST: z.string().optional(),
  /** Health probes and /metrics, on a listener of their own (the API may be loopback-only). */
  PAVED_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(8081),
  PAVED_METRICS_HOST: z.string().optional(),
  /** Budget evaluation period of the cost capability. */
  PAVED_BUDGET_INTERVAL_SECONDS: z.coerce.number().int().min(10).default(900),
  /** Rightsizing (docs/rightsizing.md): when the engine runs (node-cron), the default mode, the apply window's timezone. */
  PAVED_RIGHTSIZING_CRON: z.string().default('0 * * * *'),
  PAVED_RIGHTSIZING_DEFAULT_MODE: z.enum(['off', 'recommend', 'auto']).default('off'),
  PAVED_RIGHTSIZING_TIMEZONE: z.string().default('UTC'),
  /** The range of the CPU usage rate: at least twice the cAdvisor scrape interval (a rate needs two samples). */
  /** YAML or JSON overriding any of the engine's defaults (floors, margins, HPA, stability, watch; docs/rightsizing.md). */
  PAVED_RIGHTSIZING_FILE: z.string().optional(),
  PAVED_RIGHTSIZING_RATE_WINDOW: z.string().regex(/^[1-9][0-9]*[smh]$/, 'expected a PromQL duration such as 5m or 300s').default('5m'),
  PAVED_PROMETHEUS_URL: z.string().url().optional(),
  PAVED_CACHE_DIR: z.string().optional(),
  PAVED_GATEWAY_NAMESPACE: z.string().default('gateway-system'),
  PAVED_MONITORING_NAMESPACE: z.string().default('monitoring'),
  PAVED_ALLOWED_REGISTRIES: csv.default([]),
  PAVED_LEADER_ELECTION: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  PAVED_LEASE_NAMESPACE: z.string().default('paved-system'),
  /**
   * `namespace/name` of the host map ConfigMap (host -> team) the WebService controller maintains for
   * the admission policy paved-host-not-taken (deploy/admission); empty: not maintained.
   */
  PAVED_HOST_MAP: z
    .string()
    .regex(/^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/, 'expected namespace/name of a ConfigMap, or empty')
    .default('paved-system/paved-hosts'),
  PAVED_LEASE_DURATION_SECONDS: z.coerce.number().int().min(2).max(300).default(15),
  /**
   * Label selector limiting the Teams and WebServices this controller handles (e.g.
   * `paved.dev/shard=a`); unset: all. For sharding and for running several controllers in one cluster.
   */
  PAVED_SELECTOR: z.string().optional(),
  PAVED_WORKERS: z.coerce.number().int().min(1).max(256).default(8),
  PAVED_RESYNC_SECONDS: z.coerce.number().int().min(0).default(600),
  PAVED_ORPHAN_GRACE_SECONDS: z.coerce.number().int().min(0).default(3600),
  PAVED_OIDC_ISSUER: z.string().url().optional(),
  PAVED_OIDC_AUDIENCE: z.string().optional(),
  PAVED_OIDC_GROUPS_CLAIM: z.string().default('groups'),
  /** The portal's OIDC client (authorization code with PKCE, a public client); default: the audience. */
  PAVED_OIDC_CLIENT_ID: z.string().optional(),
  /** Scopes the portal asks for. */
  PAVED_OIDC_SCOPE: z.string().default('openid profile groups'),
  /** The built portal (index.html, assets/); default web/dist of this checkout. */
  PAVED_PORTAL_DIR: z.string().optional(),
  PAVED_ADMIN_GROUP: z.string().default('paved:platform-admins'),
  PAVED_FINANCE_GROUP: z.string().default('paved:finance'),
  PAVED_PRICING_FILE: z.string().optional(),
  POD_NAME: z.string().optional(),
  // WebService golden path (src/webservice): optional platform settings.
  PAVED_GATEWAY_NAME: z.string().optional(),
  PAVED_INGRESS_CLASS: z.string().optional(),
  PAVED_CLUSTER_ISSUER: z.string().optional(),
  PAVED_OTEL_ENDPOINT: z.string().url().optional(),
  /** `policy=enforce|audit,...` overrides of the WebService policy modes. */
  /**
   * Local stack only (no KUBECONFIG): start kube-state-metrics, metrics-server and kwok's usage
   * scraping too (default), so cost and dashboards show real numbers; `false` leaves them out.
   */
  PAVED_LOCAL_EXTRAS: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  PAVED_POLICY_MODES: z
    .string()
    .regex(/^\s*([a-z0-9-]+\s*=\s*(enforce|audit)\s*(,\s*|$))*$/, 'expected policy=enforce|audit,...')
    .optional(),
});

export type PavedConfig = Readonly<z.infer<typeof envSchema>>;

/** Thrown when the environment does not describe a valid configuration; names every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses a configuration from an environment map (process.env by default). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): PavedConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return Object.freeze(parsed.data);
}
