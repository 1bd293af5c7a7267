/** The API's shapes the portal reads (docs/api.md): the server's own types where it has them, else as documented. */
import type { ServiceView } from '../../src/server/view.js';

export type { Measurement, ConditionView as Condition, ServiceView } from '../../src/server/view.js';
export type { StreamMessage } from '../../src/server/hub.js';

/** `reality.failure` of a ServiceView (the server types it `unknown`: status.rollout.failure as written). */
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
