/**
 * Condition and Event reasons: PascalCase constants in one place, so reconcilers, tests and
 * dashboards agree on the vocabulary (`Reasons`, and the groups of delivery and budgets below). Add new
 * reasons here, never as string literals elsewhere.
 */
export const Reasons = {
  // Generic lifecycle
  Reconciled: 'Reconciled',
  Reconciling: 'Reconciling',
  ReconcileFailed: 'ReconcileFailed',
  Progressing: 'Progressing',
  Available: 'Available',
  Unavailable: 'Unavailable',
  Deleting: 'Deleting',
  Finalizing: 'Finalizing',
  // Inputs
  InvalidSpec: 'InvalidSpec',
  PolicyViolation: 'PolicyViolation',
  DependencyMissing: 'DependencyMissing',
  DependencyNotAllowed: 'DependencyNotAllowed',
  DependenciesAllowed: 'DependenciesAllowed',
  // API server
  Forbidden: 'Forbidden',
  Conflict: 'Conflict',
  ApplyFailed: 'ApplyFailed',
  // Tenancy
  NamespacesReady: 'NamespacesReady',
  NamespaceConflict: 'NamespaceConflict',
  QuotaExceeded: 'QuotaExceeded',
  // Delivery and analysis
  RolloutStarted: 'RolloutStarted',
  RolloutProgressing: 'RolloutProgressing',
  RolloutPaused: 'RolloutPaused',
  RolloutCompleted: 'RolloutCompleted',
  RolloutAborted: 'RolloutAborted',
  RolledBack: 'RolledBack',
  AnalysisPassed: 'AnalysisPassed',
  AnalysisFailed: 'AnalysisFailed',
  AnalysisInconclusive: 'AnalysisInconclusive',
  PrometheusUnavailable: 'PrometheusUnavailable',
} as const;

/** Any known reason. */
export type Reason = (typeof Reasons)[keyof typeof Reasons];

/** Event reasons of the rollout state machine (src/delivery). */
export const DeliveryReasons = {
  RolloutStarted: 'RolloutStarted',
  RolloutWeightSet: 'RolloutWeightSet',
  RolloutPausedPauseStep: 'RolloutPausedPauseStep',
  RolloutPausedManual: 'RolloutPausedManual',
  RolloutPausedInconclusive: 'RolloutPausedInconclusive',
  RolloutPausedAnalysisError: 'RolloutPausedAnalysisError',
  RolloutPausedInvalidAnalysis: 'RolloutPausedInvalidAnalysis',
  RolloutResumed: 'RolloutResumed',
  RolloutStepPromoted: 'RolloutStepPromoted',
  RolloutPromoting: 'RolloutPromoting',
  RolloutPromoted: 'RolloutPromoted',
  PromotionStalled: 'PromotionStalled',
  RolloutRolledBack: 'RolloutRolledBack',
  RolloutAborted: 'RolloutAborted',
  RolloutAbandoned: 'RolloutAbandoned',
  RolloutActionIgnored: 'RolloutActionIgnored',
  AnalysisSuccessful: 'AnalysisSuccessful',
} as const;

/** Reasons of the WithinBudget Team condition (src/cost). */
export const BudgetReasons = {
  BudgetOk: 'BudgetOk',
  BudgetWarning: 'BudgetWarning',
  BudgetExceeded: 'BudgetExceeded',
} as const;
