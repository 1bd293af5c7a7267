/** The API's shapes the portal reads (docs/api.md): the stream's ServiceView, the caller, teams, cost. */
export interface Measurement {
  metric: string;
  template: string | null;
  value: number | null;
  stableValue: number | null;
  phase: string | null;
  at: string | null;
}

export interface Condition {
  type: string;
  status: string;
  reason: string | null;
  message: string | null;
  lastTransitionTime: string | null;
}

export interface ServiceView {
  key: string;
  namespace: string;
  name: string;
  team: string;
  intent: {
    generation: number | null;
    image: string | null;
    revision: string | null;
    step: number | null;
    stepCount: number;
    weight: number | null;
    replicas: { min: number | null; max: number | null };
  };
  reality: {
    observedGeneration: number | null;
    phase: string | null;
    stableRevision: string | null;
    canaryRevision: string | null;
    routeWeights: { stable: number; canary: number } | null;
    readyPods: { stable: number; canary: number };
    analysis: Measurement[];
    message: string | null;
    failure: Failure | null;
    conditions: Condition[];
    converged: boolean;
    notConvergedSince: string | null;
  };
}

export interface Failure {
  reason?: string;
  message?: string;
  at?: string;
  metric?: string;
  value?: number;
  condition?: string;
}

export interface Caller {
  subject: string;
  groups: string[];
  teams: string[];
  isPlatformAdmin: boolean;
  isFinance: boolean;
}

export interface Team {
  name: string;
  namespaces: string[];
  costCenter?: string;
}

export interface Budget {
  team: string;
  currency: string;
  monthToDateCost: number;
  burnRatePerDay: number;
  projectedMonthEndCost: number;
  monthlyBudget: number | null;
  projectedRatio: number | null;
  status: string;
}

export interface Violation {
  namespace: string;
  service: string;
  policy: string;
  object: string;
  field: string;
  message: string;
  mode: string;
}

export interface MetricRun {
  name: string;
  condition: string;
  phase: string;
  measurements: Array<{ phase: string; at: string; value?: number; stableValue?: number }>;
}

export interface AnalysisRun {
  id: string;
  revision: string;
  stepIndex: number;
  phase: string;
  startedAt: string;
  finishedAt?: string;
  message?: string;
  metrics: MetricRun[];
}

export interface Step {
  setWeight?: number;
  pause?: { duration?: string };
  analysis?: { templates: Array<{ templateName: string; clusterScope?: boolean }> };
}

export interface ServiceDetail {
  view: ServiceView;
  spec: { image?: string; delivery?: { steps?: Step[] }; [k: string]: unknown };
  rollout: { currentRun?: AnalysisRun; history?: AnalysisRun[]; failure?: Failure; phase?: string } | null;
  rolloutHistory: AnalysisRun[];
  violations: Violation[];
}

export interface Preview {
  objects: Array<{ apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } }>;
  allowed: boolean;
  violations: Array<{ policy?: string; message?: string; field?: string }>;
  cost: { monthly: number; currency: string } | null;
  notes: string[];
}

export type PatchOp = { op: 'add'; path: string; value: unknown } | { op: 'replace'; path: string; value: unknown } | { op: 'remove'; path: string };

export type StreamMessage =
  | { type: 'snapshot'; epoch: string; seq: number; at: string; services: ServiceView[] }
  | { type: 'resumed'; epoch: string; seq: number; at: string; from: number }
  | { type: 'service'; seq: number; at: string; key: string; team: string; view: ServiceView }
  | { type: 'delta'; seq: number; at: string; key: string; team: string; ops: PatchOp[] }
  | { type: 'removed'; seq: number; at: string; key: string; team: string };
