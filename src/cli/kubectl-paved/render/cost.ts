/**
 * The `cost TEAM` view (pure): the month so far, the projection against the budget, and the top
 * services by cost this month. Figures are the API's (src/cost), formatted only.
 */
import type { BudgetReport, TeamReport } from '../../../cost/service.js';
import { plain, type Colors } from './colors.js';
import { renderTable } from './table.js';

/** How many services the view lists. */
export const TOP_SERVICES = 5;

function money(v: number | null | undefined, currency: string): string {
  return v === null || v === undefined ? '-' : `${v.toFixed(2)} ${currency}`;
}

export function renderCost(budget: BudgetReport, month: TeamReport | undefined, c: Colors = plain): string {
  const cur = budget.currency;
  const status = budget.status === 'over' ? c.red('over') : budget.status === 'warning' ? c.yellow('warning') : budget.status === 'ok' ? c.green('ok') : 'no budget';
  const ratio = budget.projectedRatio === null ? '' : ` (${Math.round(budget.projectedRatio * 100)}% of budget)`;
  const lines = [
    `Team:              ${budget.team}`,
    `Month:             ${budget.monthStart.slice(0, 10)} to ${budget.monthEnd.slice(0, 10)} (as of ${budget.asOf})`,
    `Month to date:     ${money(budget.monthToDateCost, cur)}`,
    `Burn rate:         ${money(budget.burnRatePerDay, cur)}/day (last 7 days ${money(budget.last7DaysCost, cur)})`,
    `Projected:         ${money(budget.projectedMonthEndCost, cur)}${ratio}`,
    `Budget:            ${money(budget.monthlyBudget, cur)}  status: ${status}`,
  ];
  if (month) {
    const top = [...month.byService].sort((a, b) => b.totals.totalCost - a.totals.totalCost || a.service.localeCompare(b.service)).slice(0, TOP_SERVICES);
    lines.push('', c.bold(`Top services this month (of ${month.byService.length}):`));
    if (top.length === 0) lines.push('  none');
    else
      lines.push(
        ...renderTable(
          ['service', 'namespace', 'cost', 'idle'],
          top.map((s) => [s.service, s.namespace, money(s.totals.totalCost, cur), money(s.totals.idleCost, cur)]),
        )
          .trimEnd()
          .split('\n')
          .map((l) => `  ${l}`),
      );
  }
  return lines.join('\n') + '\n';
}
