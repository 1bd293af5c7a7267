/**
 * The small JSON intent a developer sends ("deploy my service") and the WebService it becomes. The
 * schema is strict (unknown fields are errors, so typos do not silently vanish) and mirrors the
 * WebService spec's developer-facing fields; the API server's CRD schema and CEL rules run again on
 * apply. Pure: intent in, manifest out.
 */
import { z } from '@hono/zod-openapi';
import type { KubernetesObject } from '@kubernetes/client-node';
import { PAVED_API_VERSION } from '../api/index.js';

const dnsLabel = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const hostname = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/;

/**
 * `config`: parsing a record assigns each key, and assigning `__proto__` sets the prototype instead, so
 * the key would vanish silently. It is refused by name before that (the CRD refuses it too).
 */
const configSchema = z
  .unknown()
  .superRefine((v, ctx) => {
    if (v !== null && typeof v === 'object' && Object.hasOwn(v, '__proto__')) {
      ctx.addIssue({ code: 'custom', path: ['__proto__'], message: 'the key "__proto__" is not allowed in config' });
    }
  })
  .pipe(z.record(z.string(), z.string()));

const stepSchema = z
  .object({
    setWeight: z.number().int().min(0).max(100).optional(),
    // The CRD's pattern: Go-style, units may be combined ("1h30m").
    pause: z
      .object({ duration: z.string().max(32).regex(/^([0-9]+(ms|s|m|h))+$/, 'must be a duration such as 30s, 10m or 1h30m').optional() })
      .strict()
      .optional(),
    analysis: z
      .object({
        templates: z.array(z.object({ templateName: z.string().min(1), clusterScope: z.boolean().optional() }).strict()).min(1).max(8),
        args: z.array(z.object({ name: z.string().min(1), value: z.string() }).strict()).max(16).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((s) => [s.setWeight !== undefined, s.pause !== undefined, s.analysis !== undefined].filter(Boolean).length === 1, {
    message: 'a step is exactly one of setWeight, pause or analysis',
  });

/** The fields of an intent other than its name. */
export const IntentSpecSchema = z
  .object({
    image: z
      .string()
      .min(1)
      .max(512)
      .regex(/^[^\s]+$/, 'must not contain whitespace')
      .openapi({ example: 'ghcr.io/acme/shop:1.4.2' }),
    runtime: z.enum(['node', 'python', 'go', 'java', 'generic']).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    tier: z.enum(['small', 'medium', 'large']).optional(),
    config: configSchema.optional(),
    scaling: z
      .object({
        minReplicas: z.number().int().min(1).max(1000).optional(),
        maxReplicas: z.number().int().min(1).max(1000).optional(),
        targetCPUUtilization: z.number().int().min(1).max(100).optional(),
      })
      .strict()
      .refine((s) => s.minReplicas === undefined || s.maxReplicas === undefined || s.minReplicas <= s.maxReplicas, {
        message: 'minReplicas must not exceed maxReplicas',
        path: ['minReplicas'],
      })
      .optional(),
    networking: z
      .object({
        visibility: z.enum(['public', 'private']).optional(),
        host: z.string().regex(hostname, 'must be a DNS host name').optional(),
        paths: z.array(z.string().startsWith('/')).max(16).optional(),
        tls: z.object({ enabled: z.boolean().optional(), secretName: z.string().optional() }).strict().optional(),
        dependencies: z
          .array(z.object({ service: z.string().regex(dnsLabel), namespace: z.string().regex(dnsLabel).optional() }).strict())
          .max(32)
          .optional(),
        // Other teams' services that may list this one as a dependency (src/webservice/consent.ts).
        allowedCallers: z
          .array(
            z
              .object({ team: z.string().regex(dnsLabel).optional(), namespace: z.string().regex(dnsLabel).optional() })
              .strict()
              .refine((a) => (a.team === undefined) !== (a.namespace === undefined), { message: 'an allowed caller names exactly one of team or namespace' }),
          )
          .max(32)
          .optional(),
      })
      .strict()
      .refine((n) => n.visibility !== 'public' || n.host !== undefined, {
        message: 'host is required when visibility is public',
        path: ['host'],
      })
      .optional(),
    observability: z
      .object({
        metrics: z
          .object({ enabled: z.boolean().optional(), path: z.string().startsWith('/').optional(), port: z.number().int().min(1).max(65535).optional() })
          .strict()
          .optional(),
        tracing: z.boolean().optional(),
      })
      .strict()
      .optional(),
    delivery: z
      .object({
        steps: z.array(stepSchema).max(20).optional(),
        progressDeadlineSeconds: z.number().int().min(1).optional(),
        scaleDownDelaySeconds: z.number().int().min(0).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** A create request: the name plus the spec fields. */
export const CreateIntentSchema = IntentSpecSchema.extend({
  name: z.string().min(1).max(52).regex(dnsLabel, 'must be a DNS label (lower case letters, digits, "-")').openapi({ example: 'shop' }),
})
  .strict()
  .openapi('WebServiceIntent');

/** An update request: the name comes from the path (a body name must match it). */
export const UpdateIntentSchema = IntentSpecSchema.extend({ name: z.string().optional() }).strict().openapi('WebServiceIntentUpdate');

export type IntentSpec = z.infer<typeof IntentSpecSchema>;
export type CreateIntent = z.infer<typeof CreateIntentSchema>;

/** The WebService an intent describes (what is server-side applied). */
export function intentToWebService(namespace: string, name: string, team: string, spec: IntentSpec): KubernetesObject & { spec: IntentSpec } {
  const { ...fields } = spec as IntentSpec & { name?: string };
  delete (fields as { name?: string }).name;
  return {
    apiVersion: PAVED_API_VERSION,
    kind: 'WebService',
    metadata: { name, namespace, ...(team ? { labels: { 'paved.dev/team': team } } : {}) },
    spec: fields,
  };
}
