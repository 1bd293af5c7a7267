/**
 * paved.dev resource types. The shapes come from the CRD schemas in crds/ (generated into
 * src/api/generated/ by `npm run gen:types`); this module adds friendly names and the constants every
 * capability shares (group, version, well-known labels).
 */
import type { Team as GeneratedTeam } from './generated/team.js';

export const PAVED_GROUP = 'paved.dev';
export const PAVED_VERSION = 'v1alpha1';
export const PAVED_API_VERSION = `${PAVED_GROUP}/${PAVED_VERSION}` as const;

/** Labels paved puts on what it manages, read by cost attribution, dashboards and admission. */
export const Labels = {
  /** The team that owns a namespace or object. */
  team: 'paved.dev/team',
  costCenter: 'paved.dev/cost-center',
  environment: 'paved.dev/environment',
  service: 'paved.dev/service',
  /** Which paved capability rendered an object (`tenancy`, `webservice`...). */
  component: 'paved.dev/component',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

/** The value of `app.kubernetes.io/managed-by` on everything paved manages. */
export const MANAGED_BY = 'paved';

/** A Team (cluster-scoped). */
export type Team = GeneratedTeam;
export type TeamSpec = GeneratedTeam['spec'];
export type TeamStatus = NonNullable<GeneratedTeam['status']>;
export type TeamQuota = TeamSpec['quota'];
export type QuotaTier = NonNullable<TeamQuota['tier']>;
export type TeamDeletionPolicy = NonNullable<TeamSpec['deletionPolicy']>;
export type TeamSubjects = TeamSpec['owners'];
export type TeamNamespaceStatus = NonNullable<TeamStatus['namespaces']>[number];

/** The environment label of a Team's single namespace when it lists no environments. */
export const DEFAULT_ENVIRONMENT = 'default';

/** The other paved.dev kinds (their capabilities add friendlier aliases where they need them). */
export type { WebService } from './generated/web-service.js';
export type { AnalysisTemplate } from './generated/analysis-template.js';
export type { ClusterAnalysisTemplate } from './generated/cluster-analysis-template.js';
