/**
 * Condition and Event reasons: PascalCase constants in one place, so reconcilers, tests and
 * dashboards agree on the vocabulary. Add new reasons here, never as string literals elsewhere.
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
