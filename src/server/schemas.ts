/**
 * Response schemas of the REST API, for the OpenAPI document (`/openapi.json`). They mirror the
 * TypeScript shapes of view.ts and teams.ts; raw Kubernetes objects are described as open objects.
 */
import { z } from '@hono/zod-openapi';

export const SubjectSchema = z.object({ kind: z.enum(['User', 'Group', 'Any']), name: z.string() });

export const TeamSchema = z
  .object({
    name: z.string(),
    namespaces: z.array(z.string()),
    owners: z.array(SubjectSchema),
    members: z.array(SubjectSchema),
    costCenter: z.string().optional(),
    monthlyBudget: z.unknown().optional(),
  })
  .openapi('Team');

const nullableString = z.string().nullable();
const nullableNumber = z.number().nullable();

export const IntentSchema = z
  .object({
    generation: nullableNumber,
    image: nullableString,
    revision: nullableString,
    step: nullableNumber,
    stepCount: z.number(),
    weight: nullableNumber,
    replicas: z.object({ min: nullableNumber, max: nullableNumber }),
  })
  .openapi('Intent');

export const MeasurementSchema = z.object({
  metric: z.string(),
  template: nullableString,
  value: nullableNumber,
  stableValue: nullableNumber,
  phase: nullableString,
  at: nullableString,
});

export const ConditionSchema = z.object({
  type: z.string(),
  status: z.string(),
  reason: nullableString,
  message: nullableString,
  lastTransitionTime: nullableString,
});

export const RealitySchema = z
  .object({
    observedGeneration: nullableNumber,
    phase: nullableString,
    stableRevision: nullableString,
    canaryRevision: nullableString,
    routeWeights: z.object({ stable: z.number(), canary: z.number() }).nullable(),
    readyPods: z.object({ stable: z.number(), canary: z.number() }),
    analysis: z.array(MeasurementSchema),
    message: nullableString,
    failure: z.unknown(),
    conditions: z.array(ConditionSchema),
    converged: z.boolean(),
    notConvergedSince: nullableString,
  })
  .openapi('Reality');

export const ServiceViewSchema = z
  .object({
    key: z.string(),
    namespace: z.string(),
    name: z.string(),
    team: z.string(),
    intent: IntentSchema,
    reality: RealitySchema,
  })
  .openapi('ServiceView');

export const KubeObjectSchema = z.record(z.string(), z.unknown()).openapi('KubernetesObject');

export const WebServiceDetailSchema = z
  .object({
    view: ServiceViewSchema,
    spec: z.unknown(),
    rollout: z.unknown(),
    rolloutHistory: z.array(z.unknown()),
    inventory: z.array(z.unknown()),
    violations: z.array(z.unknown()),
  })
  .openapi('WebServiceDetail');

export const ViolationSchema = z
  .object({
    namespace: z.string(),
    service: z.string(),
    policy: z.string(),
    object: z.string(),
    field: z.string(),
    message: z.string(),
    mode: z.string(),
  })
  .openapi('PolicyViolation');

export const PreviewSchema = z
  .object({
    objects: z.array(KubeObjectSchema),
    rendered: z.boolean(),
    /** False when an enforced policy would stop the controller from applying the objects. */
    allowed: z.boolean(),
    violations: z.array(z.unknown()),
    cost: z
      .object({ monthly: z.number(), currency: z.string(), breakdown: z.unknown().optional() })
      .nullable(),
    notes: z.array(z.string()),
  })
  .openapi('Preview');

export const CallerSchema = z
  .object({
    subject: z.string(),
    groups: z.array(z.string()),
    teams: z.array(z.string()),
    isPlatformAdmin: z.boolean(),
    isFinance: z.boolean(),
  })
  .openapi('Caller');
