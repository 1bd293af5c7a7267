/**
 * Recorded objects for the renderer tests, shaped as the API server returns them for a WebService
 * `shop` at step 2/5 (10%) of a gated rollout: the WebService with status.rollout as the delivery
 * controller writes it, both Deployments, their pods and the HTTPRoute.
 */
import type { KubernetesObject, V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { Team } from '../../../src/api/index.js';
import type { BudgetReport, TeamReport } from '../../../src/cost/service.js';
import type { TeamRecommendations } from '../../../src/rightsizing/routes.js';
import type { WebService } from '../../../src/webservice/render/index.js';

export const NOW = new Date('2026-12-01T11:00:00Z');

const gate = { analysis: { templates: [{ templateName: 'gate' }] } };

export const rollingShop = {
  apiVersion: 'paved.dev/v1alpha1',
  kind: 'WebService',
  metadata: { name: 'shop', namespace: 'team-a', creationTimestamp: '2026-12-01T10:00:00Z', generation: 2 },
  spec: {
    image: 'ghcr.io/acme/shop:2.0.0',
    networking: { visibility: 'public', host: 'shop.example.com' },
    scaling: { minReplicas: 2, maxReplicas: 4 },
    delivery: { steps: [{ setWeight: 10 }, gate, { setWeight: 50 }, gate, { setWeight: 100 }] },
  },
  status: {
    replicas: 3,
    readyReplicas: 3,
    conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', lastTransitionTime: '2026-12-01T10:01:00Z', message: '' }],
    rollout: {
      phase: 'Progressing',
      message: 'analysis gate running',
      stableRevision: '5d8f7c',
      canaryRevision: '9a41b2',
      stepIndex: 1,
      stepCount: 5,
      weight: 10,
      startedAt: '2026-12-01T10:58:00Z',
      stepStartedAt: '2026-12-01T10:59:00Z',
      attempt: 0,
      currentRun: {
        id: '9a41b2-1-0',
        revision: '9a41b2',
        stepIndex: 1,
        phase: 'Running',
        startedAt: '2026-12-01T10:59:00Z',
        metrics: [
          {
            name: 'error-rate',
            template: 'AnalysisTemplate/gate',
            phase: 'Running',
            query: 'sum(rate(http_requests_total{track="canary",code=~"5.."}[5s])) / sum(rate(http_requests_total{track="canary"}[5s]))',
            condition: 'result <= 0.05',
            successful: 2,
            failed: 0,
            inconclusive: 0,
            error: 0,
            consecutiveErrors: 0,
            measurements: [
              { phase: 'Successful', at: '2026-12-01T10:59:02.080Z', value: 0, message: 'value 0 meets result <= 0.05' },
              { phase: 'Successful', at: '2026-12-01T10:59:04.082Z', value: 0.0123456, message: 'value 0.0123456 meets result <= 0.05' },
            ],
            nextMeasurementAt: '2026-12-01T10:59:06Z',
          },
        ],
      },
      history: [
        {
          id: '77aa00-1-1',
          revision: '77aa00',
          stepIndex: 1,
          phase: 'Failed',
          startedAt: '2026-11-29T09:00:00Z',
          finishedAt: '2026-11-29T09:01:00Z',
          message: 'metric error-rate failed: 0.5 breaks result <= 0.05',
          metrics: [],
        },
        {
          id: '5d8f7c-1-1',
          revision: '5d8f7c',
          stepIndex: 1,
          phase: 'Successful',
          startedAt: '2026-11-30T09:00:00Z',
          finishedAt: '2026-11-30T09:01:00Z',
          message: 'all metrics successful',
          metrics: [],
        },
      ],
    },
  },
} as unknown as WebService;

function deployment(name: string, revision: string, replicas: number, ready: number, track: string): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'team-a' },
    spec: {
      replicas,
      selector: { matchLabels: { 'paved.dev/service': 'shop', 'paved.dev/track': track } },
      template: { metadata: { annotations: { 'paved.dev/revision': revision } }, spec: { containers: [] } },
    },
    status: { replicas, readyReplicas: ready },
  };
}

function pod(name: string, track: string, ready: boolean): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'team-a', labels: { 'paved.dev/service': 'shop', 'paved.dev/track': track } },
    status: { phase: ready ? 'Running' : 'Pending', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

export const stable = deployment('shop', '5d8f7c', 2, 2, 'stable');
export const canary = deployment('shop-canary', '9a41b2', 1, 1, 'canary');
export const pods = [pod('shop-6c9f-b2kxq', 'stable', true), pod('shop-6c9f-a1zzp', 'stable', true), pod('shop-canary-7d4-x9m2n', 'canary', true), pod('other-1', 'x', true)];
export const route = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'shop', namespace: 'team-a' },
  spec: {
    rules: [
      {
        backendRefs: [
          { name: 'shop-stable', weight: 90 },
          { name: 'shop-canary', weight: 10 },
        ],
      },
    ],
  },
} as KubernetesObject;

export const rolledBackShop = {
  ...rollingShop,
  metadata: { ...rollingShop.metadata, name: 'cart', namespace: 'team-b' },
  status: {
    ...rollingShop.status,
    rollout: {
      ...(rollingShop.status as { rollout: object }).rollout,
      phase: 'RolledBack',
      message: 'analysis failed',
      weight: 0,
      stepIndex: 1,
      rolledBackAt: '2026-12-01T10:59:30Z',
      currentRun: undefined,
      failure: { reason: 'AnalysisFailed', message: 'metric error-rate failed: 0.5 breaks result <= 0.05', at: '2026-12-01T10:59:30Z', metric: 'error-rate', value: 0.5 },
    },
  },
} as unknown as WebService;

export const teams = [
  {
    apiVersion: 'paved.dev/v1alpha1',
    kind: 'Team',
    metadata: { name: 'team-b', creationTimestamp: '2026-11-28T11:00:00Z' },
    spec: { quota: { tier: 'small' }, costCenter: 'cc-200', owners: {} },
    status: { namespaces: [{ name: 'team-b' }], conditions: [{ type: 'Ready', status: 'True', reason: 'Provisioned' }] },
  },
  {
    apiVersion: 'paved.dev/v1alpha1',
    kind: 'Team',
    metadata: { name: 'team-a', creationTimestamp: '2026-12-01T10:55:00Z' },
    spec: { quota: { tier: 'medium' }, costCenter: 'cc-100', owners: {} },
    status: { namespaces: [{ name: 'team-a-dev' }, { name: 'team-a-prod' }], conditions: [{ type: 'Ready', status: 'False', reason: 'QuotaPending' }] },
  },
] as unknown as Team[];

const line = (total: number, idle: number) => ({ totalCost: total, idleCost: idle }) as TeamReport['totals'];

export const budget = {
  team: 'team-a',
  currency: 'USD',
  asOf: '2026-12-01T11:00:00Z',
  monthStart: '2026-12-01T00:00:00Z',
  monthEnd: '2027-01-01T00:00:00Z',
  monthToDateCost: 12.5,
  last7DaysCost: 70,
  burnRatePerDay: 10,
  remainingDays: 30.54,
  projectedMonthEndCost: 317.9,
  monthlyBudget: 300,
  projectedRatio: 1.0597,
  status: 'over',
  thresholds: { warningRatio: 0.8, overRatio: 1 },
  queries: {},
} as unknown as BudgetReport;

export const month = {
  team: 'team-a',
  currency: 'USD',
  byService: [
    { environment: 'prod', namespace: 'team-a-prod', service: 'shop', totals: line(8, 2.25), series: [] },
    { environment: 'dev', namespace: 'team-a-dev', service: 'cart', totals: line(3.5, 3), series: [] },
    { environment: 'prod', namespace: 'team-a-prod', service: 'search', totals: line(1, 0), series: [] },
  ],
} as unknown as TeamReport;

/** A recorded answer of GET /api/v1/teams/team-a/recommendations. */
export const recommendations: TeamRecommendations = {
  team: 'team-a',
  currency: 'USD',
  projectedMonthlySavings: 61.37,
  services: [
    {
      namespace: 'team-a-prod', webService: 'shop', mode: 'auto', state: 'Watching', reason: 'Promoted', message: 'promoted; watching latency, errors, OOM kills and throttling until 2026-12-02T10:00:00Z',
      stableDays: 14, daysOfData: 14, daysNeeded: 14, projectedMonthlySavings: 48.12, applied: [{ name: 'app', cpu: '230m', memory: '236Mi' }],
      containers: [{ name: 'app', current: { cpu: '230m', memory: '236Mi' }, recommended: { cpu: '230m', memory: '236Mi' }, notes: [] }],
    },
    {
      namespace: 'team-a-prod', webService: 'cart', mode: 'recommend', state: 'Recommended', reason: 'RecommendOnly', message: 'recommended app: memory 300Mi (mode recommend: not applied)',
      stableDays: 9, daysOfData: 14, daysNeeded: 14, projectedMonthlySavings: 13.25, applied: [],
      containers: [{ name: 'app', current: { cpu: '500m', memory: '1Gi' }, recommended: { memory: '300Mi' }, notes: ['an HorizontalPodAutoscaler scales this service on CPU: memory only'] }],
    },
    {
      namespace: 'team-a-dev', webService: 'api', mode: 'auto', state: 'Collecting', reason: 'InsufficientData', message: 'insufficient data: 3 of 14 days of usage history',
      stableDays: null, daysOfData: 3, daysNeeded: 14, projectedMonthlySavings: 0, applied: [],
      containers: [{ name: 'app', current: { cpu: '100m', memory: '128Mi' }, recommended: null, notes: [] }],
    },
  ],
};
