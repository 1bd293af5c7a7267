/**
 * Golden tests of the kubectl-paved views: recorded objects in, the exact text out (golden files in
 * golden/; update with `npx vitest run --project unit test/cli -u` and review the diff).
 */
import { describe, expect, it } from 'vitest';
import { colorsFor, shouldColor } from '../../../src/cli/kubectl-paved/render/colors.js';
import { renderCost } from '../../../src/cli/kubectl-paved/render/cost.js';
import { renderRecommendations } from '../../../src/cli/kubectl-paved/render/recommendations.js';
import { renderTeamTable, renderWebServiceTable } from '../../../src/cli/kubectl-paved/render/lists.js';
import { lastRollouts, renderServiceTree } from '../../../src/cli/kubectl-paved/render/service-tree.js';
import { formatAge, humanDuration, renderTable } from '../../../src/cli/kubectl-paved/render/table.js';
import { readRolloutState } from '../../../src/delivery/observe.js';
import { NOW, budget, canary, month, pods, recommendations, rolledBackShop, rollingShop, route, stable, teams } from './fixtures.js';

describe('tables', () => {
  it('pads columns like kubectl and prints <none> for empty cells', () => {
    expect(renderTable(['name', 'ready'], [['a-long-name', '1/1'], ['b', undefined]])).toBe('NAME          READY\na-long-name   1/1\nb             <none>\n');
  });

  it('formats ages like kubectl', () => {
    expect([5, 119, 200, 3600, 5 * 3600 + 180, 30 * 3600, 3 * 86400 + 3600, 40 * 86400].map((s) => humanDuration(s * 1000))).toEqual([
      '5s',
      '119s',
      '3m20s',
      '60m',
      '5h3m',
      '30h',
      '3d1h',
      '40d',
    ]);
    expect(formatAge(undefined, NOW)).toBe('<unknown>');
  });
});

describe('views (golden)', () => {
  it('get teams', async () => {
    await expect(renderTeamTable(teams, NOW)).toMatchFileSnapshot('golden/teams.txt');
  });

  it('get ws and get ws -A', async () => {
    await expect(renderWebServiceTable([rollingShop], NOW, false)).toMatchFileSnapshot('golden/ws.txt');
    await expect(renderWebServiceTable([rolledBackShop, rollingShop], NOW, true)).toMatchFileSnapshot('golden/ws-all.txt');
    expect(renderWebServiceTable([], NOW, false)).toBe('No resources found\n');
  });

  it('get ws NAME: the tree of a rollout in progress', async () => {
    const text = renderServiceTree({ webService: rollingShop, stable, canary, pods, route }, NOW);
    await expect(text).toMatchFileSnapshot('golden/tree-progressing.txt');
    expect(text).toMatch(/▶ 2\. +analysis gate/);
    expect(text).toContain('stable 90%  canary 10%  (route)');
    expect(text).not.toContain('other-1');
  });

  it('get ws NAME: a rolled-back rollout names the metric and its value', async () => {
    const text = renderServiceTree({ webService: rolledBackShop, pods: [] }, NOW);
    await expect(text).toMatchFileSnapshot('golden/tree-rolledback.txt');
    expect(lastRollouts(readRolloutState(rolledBackShop))[0]).toMatchObject({ result: 'RolledBack', reason: expect.stringContaining('AnalysisFailed (error-rate = 0.5)') });
  });

  it('recommendations TEAM', async () => {
    await expect(renderRecommendations(recommendations)).toMatchFileSnapshot('golden/recommendations.txt');
    expect(renderRecommendations({ ...recommendations, services: [] })).toContain('No recommendations');
  });

  it('cost TEAM', async () => {
    await expect(renderCost(budget, month)).toMatchFileSnapshot('golden/cost.txt');
  });
});

describe('colour', () => {
  it('only on a terminal, and never with NO_COLOR', () => {
    expect(shouldColor({ isTTY: true }, {})).toBe(true);
    expect(shouldColor({ isTTY: false }, {})).toBe(false);
    expect(shouldColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(shouldColor({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(renderServiceTree({ webService: rollingShop, pods }, NOW, colorsFor(true))).toContain('\x1b[');
  });
});
