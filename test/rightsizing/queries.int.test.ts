/**
 * The engine's batched queries against a real Prometheus (history backfilled with promtool), for
 * cAdvisor scraped every 5 minutes: a 5-minute rate has one sample in its range and so no value. That
 * history once passed as "14 of 14 days" and still gave no recommendation (the benchmark recommended 0
 * of 500 workloads); a day now counts only with every resource recommended, and the rate window is a
 * setting (PAVED_RIGHTSIZING_RATE_WINDOW).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCostPrometheus, type CostPrometheus } from '../../src/cost/prometheus.js';
import { planLifecycle } from '../../src/rightsizing/plan.js';
import { queryUsage } from '../../src/rightsizing/queries.js';
import { recommendContainer } from '../../src/rightsizing/recommend.js';
import { DEFAULT_SETTINGS, type RightsizingSettings } from '../../src/rightsizing/types.js';
import { startPrometheus, type LocalPrometheus } from '../support/prometheus.js';
import { rightsizingHistory } from '../support/rightsizing-history.js';

const GIB = 2 ** 30;
const END = Math.floor(Date.now() / 60_000) * 60 - 60;
let prom: LocalPrometheus;
let client: CostPrometheus;

beforeAll(async () => {
  const history = rightsizingHistory(
    [{ namespace: 'rs-scrape-5m', service: 'shop', cpu: () => 0.2, memory: () => 0.2 * GIB, cpuRequest: 1, memoryRequest: GIB, memoryLimit: GIB, days: 15, extras: false }],
    { endSeconds: END, resolutionSeconds: 300 },
  );
  prom = await startPrometheus({ backfillOpenMetrics: history });
  client = createCostPrometheus({ url: prom.url, timeoutMs: 30_000 });
}, 300_000);

afterAll(async () => prom?.stop());

async function recommend(settings: RightsizingSettings) {
  const usage = (await queryUsage(client, settings, new Date(END * 1000))).get('rs-scrape-5m/shop/app');
  expect(usage).toBeDefined();
  return recommendContainer(settings.recommend, { usage: usage!, runtime: 'go', bounds: {}, cpuHpa: false });
}

describe('rightsizing queries, cAdvisor scraped every 5 minutes (real Prometheus)', () => {
  it('with a 5-minute rate window: no CPU rate, so 0 of 14 days and a status that says why', async () => {
    const r = await recommend(DEFAULT_SETTINGS);
    expect(r).toEqual({ kind: 'insufficient', daysOfData: 0, daysNeeded: 14, resource: 'cpu' });
    const plan = planLifecycle({
      mode: 'recommend',
      now: new Date(END * 1000),
      settings: DEFAULT_SETTINGS,
      recorded: {},
      verdict: r.kind === 'insufficient' ? r : { kind: 'insufficient', daysOfData: 0, daysNeeded: 14 },
      cluster: { rolloutInProgress: false, rolledBack: false, liveMatchesApplied: true, windowOpen: true },
    });
    expect(plan.state).toBe('Collecting');
    expect(plan.message).toContain('insufficient data: 0 of 14 days of CPU usage history');
    expect(plan.message).toContain('rate window 5m');
  });

  it('with a 20-minute rate window: the recommendation computed by hand (within 2%)', async () => {
    const r = await recommend({ ...DEFAULT_SETTINGS, rateWindow: '20m' });
    expect(r.kind).toBe('recommended');
    if (r.kind !== 'recommended') return;
    expect(r.cpu).toBeGreaterThan(0.2 * 1.15 * 0.98);
    expect(r.cpu).toBeLessThan(0.2 * 1.15 * 1.02);
    expect(r.memory).toBeGreaterThan(0.2 * GIB * 1.15 * 0.98);
    expect(r.memory).toBeLessThan(0.2 * GIB * 1.15 * 1.02);
    expect(r.daily.filter((d) => d.cpu !== undefined && d.memory !== undefined).length).toBeGreaterThanOrEqual(14);
  });
});
