/**
 * Budgets act, against the real API server and a real Prometheus: crossing a threshold writes the
 * Team's WithinBudget condition, emits exactly one Event and counts one crossing; evaluating again
 * with the same status does neither.
 */
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetMetrics, evaluateBudgets, type BudgetLoopDeps, type TeamObject } from '../../src/cost/budget-loop.js';
import { BUDGET_CONDITION } from '../../src/cost/budget.js';
import { createCostPrometheus } from '../../src/cost/prometheus.js';
import { createCostService } from '../../src/cost/service.js';
import { teamDirectoryFrom } from '../../src/cost/teams.js';
import { KubeClients } from '../../src/kube/client.js';
import { EventRecorder } from '../../src/kube/events.js';
import { adminKubeConfig, uniqueName } from '../support/cluster.js';
import { costHistoryOpenMetrics, singleTeamHistory, STANDARD_END } from '../support/cost-history.js';
import { startPrometheus } from '../support/prometheus.js';

const TEAM = uniqueName('costbudget');
const TEAM_REF = { apiVersion: 'paved.dev/v1alpha1', kind: 'Team', name: TEAM };
// 1 core + 1 GiB requested around the clock: 0.035848 USD per hour, 0.860352 per day. At
// 2026-11-20T00:25Z the month to date is 19 days and the projection 30 days: 25.81056 USD.
const PROJECTED = 30 * 24 * (0.031611 + 0.004237);

let clients: KubeClients;
let deps: BudgetLoopDeps;
const registry = new Registry();

async function team(): Promise<TeamObject> {
  const t = await clients.get<TeamObject>(TEAM_REF);
  if (!t) throw new Error('team gone');
  return t;
}

async function setBudget(amount: number): Promise<void> {
  await clients.request({
    method: 'PATCH',
    path: await clients.resourcePath(TEAM_REF),
    body: { spec: { monthlyBudget: { amount } } },
    contentType: 'application/merge-patch+json',
  });
}

async function budgetEvents(): Promise<Array<{ reason: string; type: string }>> {
  const list = await clients.request<{ items: Array<{ reason: string; type: string; regarding?: { name?: string } }> }>({
    method: 'GET',
    path: '/apis/events.k8s.io/v1/namespaces/default/events',
  });
  return list.items.filter((e) => e.regarding?.name === TEAM).map((e) => ({ reason: e.reason, type: e.type }));
}

async function crossings(status: string): Promise<number> {
  const m = await budgetMetrics(registry).crossings.get();
  return m.values.find((v) => v.labels.team === TEAM && v.labels.status === status)?.value ?? 0;
}

beforeAll(async () => {
  const prom = await startPrometheus({ backfillOpenMetrics: costHistoryOpenMetrics(singleTeamHistory(TEAM)) });
  clients = KubeClients.fromKubeConfig(adminKubeConfig());
  await clients.objects.create({
    apiVersion: 'paved.dev/v1alpha1',
    kind: 'Team',
    metadata: { name: TEAM, labels: { 'paved.dev/test': 'true' } },
    spec: { owners: { groups: ['team-a'] }, costCenter: 'cc-1', quota: { tier: 'small' }, monthlyBudget: { amount: 1000 } },
  } as never);
  // Only this test's Team: other tests' Teams in the shared cluster are none of its business.
  const listTeams = async (): Promise<TeamObject[]> => [await team()];
  deps = {
    cost: createCostService({
      prometheus: createCostPrometheus({ url: prom.url }),
      teams: teamDirectoryFrom(listTeams),
      now: () => new Date((STANDARD_END + 25 * 60) * 1000),
    }),
    clients,
    events: new EventRecorder(clients, { controller: 'paved.dev/cost' }),
    listTeams,
    metrics: budgetMetrics(registry),
  };
});

afterAll(async () => {
  await clients?.delete(TEAM_REF).catch(() => undefined);
});

describe('budget evaluation on a real Team', () => {
  it('sets the condition and emits one Event per crossing, none on re-evaluation', async () => {
    // Within budget (2.6%): the condition is written, no Event.
    let out = await evaluateBudgets(deps);
    expect(out).toEqual([{ team: TEAM, status: 'ok', crossed: false, wrote: true }]);
    let cond = (await team()).status?.conditions?.find((c) => c.type === BUDGET_CONDITION);
    expect(cond).toMatchObject({ status: 'True', reason: 'BudgetOk' });
    expect(await budgetEvents()).toEqual([]);

    // 81% of the budget: warning.
    await setBudget(PROJECTED / 0.81);
    out = await evaluateBudgets(deps);
    expect(out[0]).toMatchObject({ status: 'warning', crossed: true });
    cond = (await team()).status?.conditions?.find((c) => c.type === BUDGET_CONDITION);
    expect(cond).toMatchObject({ status: 'False', reason: 'BudgetWarning' });
    expect(cond?.message).toContain('81.0%');
    expect(await budgetEvents()).toEqual([{ reason: 'BudgetWarning', type: 'Warning' }]);
    expect(await crossings('warning')).toBe(1);

    // Still a warning at 99%: nothing new.
    await setBudget(PROJECTED / 0.99);
    out = await evaluateBudgets(deps);
    expect(out[0]).toMatchObject({ status: 'warning', crossed: false, wrote: false });
    expect(await budgetEvents()).toHaveLength(1);

    // Over (101%): one more Event; again: none.
    await setBudget(PROJECTED / 1.01);
    out = await evaluateBudgets(deps);
    expect(out[0]).toMatchObject({ status: 'over', crossed: true });
    await evaluateBudgets(deps);
    const events = await budgetEvents();
    expect(events.map((e) => e.reason).sort()).toEqual(['BudgetExceeded', 'BudgetWarning']);
    expect(await crossings('over')).toBe(1);

    // Back under 80%: a Normal Event, condition True again.
    await setBudget(PROJECTED / 0.5);
    out = await evaluateBudgets(deps);
    expect(out[0]).toMatchObject({ status: 'ok', crossed: true });
    expect((await budgetEvents()).filter((e) => e.reason === 'BudgetOk')).toEqual([{ reason: 'BudgetOk', type: 'Normal' }]);
    expect(await budgetEvents()).toHaveLength(3);
    cond = (await team()).status?.conditions?.find((c) => c.type === BUDGET_CONDITION);
    expect(cond).toMatchObject({ status: 'True', reason: 'BudgetOk' });
    expect(await crossings('warning')).toBe(1);
  });
});
