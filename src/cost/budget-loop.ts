/**
 * Budgets act (the shell): every interval, compute every budgeted Team's projection with one set of
 * PromQL queries for all teams, run the pure evaluator against the condition recorded on the Team,
 * and on a crossing write the `WithinBudget` condition (status subresource), emit one Event and
 * increment `paved_cost_budget_crossings_total`. The gauges are set on every evaluation so that
 * Prometheus alerting can page on them.
 *
 * The loop holds no state: the previous status is read from the Team each time (level-triggered),
 * and the next run is a timer re-armed after each pass (the `requeueAfter` of a single key).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { Counter, Gauge } from 'prom-client';
import { perRegistry } from '../kube/metrics.js';
import { describeError } from '../errors.js';
import type { KubeClients } from '../kube/client.js';
import { setCondition, type Condition } from '../kube/conditions.js';
import type { EventRecorder } from '../kube/events.js';
import { writeStatus } from '../kube/status.js';
import type { Logger } from '../log.js';
import { assessBudget, recordedBudgetStatus, type BudgetDecision } from './budget.js';
import type { BudgetStatus } from './model.js';
import type { CostService } from './service.js';
import { teamInfoFromObject } from './teams.js';

export type TeamObject = KubernetesObject & { spec?: unknown; status?: { conditions?: Condition[] } & Record<string, unknown> };

export interface BudgetMetrics {
  readonly crossings: Counter<'team' | 'status'>;
  readonly status: Gauge<'team' | 'status'>;
  readonly projectedRatio: Gauge<'team'>;
}

/** The budget metrics, registered once per registry. */
export const budgetMetrics = perRegistry(
  (registers): BudgetMetrics => ({
    crossings: new Counter({
      name: 'paved_cost_budget_crossings_total',
      help: 'Budget threshold crossings per team and new status (ok, warning, over).',
      labelNames: ['team', 'status'] as const,
      registers,
    }),
    status: new Gauge({
      name: 'paved_cost_budget_status',
      help: '1 for the current budget status of a team (labels team, status), 0 for the others.',
      labelNames: ['team', 'status'] as const,
      registers,
    }),
    projectedRatio: new Gauge({
      name: 'paved_cost_budget_projected_ratio',
      help: 'Projected month-end cost / monthly budget per team.',
      labelNames: ['team'] as const,
      registers,
    }),
  }),
);

export interface BudgetLoopDeps {
  readonly cost: CostService;
  /** Writes Team status (the controller's own identity). */
  readonly clients: KubeClients;
  readonly events: EventRecorder;
  /** The Teams to evaluate, with their status (e.g. the informer cache's list). */
  readonly listTeams: () => Promise<readonly TeamObject[]> | readonly TeamObject[];
  readonly metrics?: BudgetMetrics;
  readonly logger?: Logger;
}

export interface BudgetOutcome {
  readonly team: string;
  readonly status: BudgetStatus;
  readonly crossed: boolean;
  readonly wrote: boolean;
}

const STATUSES: readonly BudgetStatus[] = ['ok', 'warning', 'over'];

/** One evaluation of every budgeted Team. Errors of one team are logged and do not stop the others. */
export async function evaluateBudgets(deps: BudgetLoopDeps): Promise<BudgetOutcome[]> {
  const teams = (await deps.listTeams()).filter((t) => !t.metadata?.deletionTimestamp);
  const budgeted = teams.map((t) => ({ obj: t, info: teamInfoFromObject(t) })).filter((t) => t.info.monthlyBudget !== undefined);
  if (budgeted.length === 0) return [];
  const reports = await deps.cost.budgets(budgeted.map((t) => t.info));
  const outcomes: BudgetOutcome[] = [];
  for (const [i, { obj }] of budgeted.entries()) {
    const report = reports[i];
    if (!report || report.status === null || report.monthlyBudget === null) continue;
    const decision = assessBudget(recordedBudgetStatus(obj.status?.conditions), {
      status: report.status,
      projectedMonthEndCost: report.projectedMonthEndCost,
      monthlyBudget: report.monthlyBudget,
      monthToDateCost: report.monthToDateCost,
      burnRatePerDay: report.burnRatePerDay,
      currency: report.currency,
      asOf: report.asOf,
    });
    if (deps.metrics) {
      for (const s of STATUSES) deps.metrics.status.set({ team: report.team, status: s }, s === decision.status ? 1 : 0);
      if (report.projectedRatio !== null) deps.metrics.projectedRatio.set({ team: report.team }, report.projectedRatio);
    }
    try {
      const wrote = await act(deps, obj, decision);
      outcomes.push({ team: report.team, status: decision.status, crossed: decision.crossed, wrote });
    } catch (err) {
      deps.logger?.error({ team: report.team, err: describeError(err) }, 'could not record the budget status');
    }
  }
  return outcomes;
}

async function act(deps: BudgetLoopDeps, team: TeamObject, decision: BudgetDecision): Promise<boolean> {
  if (!decision.write) return false;
  const conditions = setCondition(team.status?.conditions, decision.condition, new Date());
  await writeStatus(deps.clients, team, { ...(team.status ?? {}), conditions });
  if (decision.crossed && decision.event) {
    // After the status write: if the write fails, the next run retries the crossing, and the
    // Event is emitted at most once per recorded transition.
    await deps.events.event(team, decision.event);
    deps.metrics?.crossings.inc({ team: team.metadata?.name ?? '', status: decision.status });
    deps.logger?.info({ team: team.metadata?.name, status: decision.status }, 'budget status changed');
  }
  return true;
}

export interface BudgetLoop {
  /** Runs one evaluation now (also used by tests). */
  runOnce(): Promise<BudgetOutcome[]>;
  stop(): void;
}

/** Starts evaluating every `intervalMs` (default 15 minutes); the first run starts immediately. */
export function startBudgetLoop(deps: BudgetLoopDeps, options: { intervalMs?: number } = {}): BudgetLoop {
  const interval = options.intervalMs ?? 15 * 60_000;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const run = async (): Promise<BudgetOutcome[]> => {
    try {
      return await evaluateBudgets(deps);
    } catch (err) {
      deps.logger?.warn({ err: describeError(err) }, 'budget evaluation failed; retrying at the next interval');
      return [];
    }
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      void run().finally(schedule);
    }, interval);
    timer.unref();
  };
  void run().finally(schedule);
  return {
    runOnce: run,
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
