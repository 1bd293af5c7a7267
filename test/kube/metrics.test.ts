import { describe, expect, it } from 'vitest';
import { createController } from '../../src/kube/controller.js';
import { metricsRegistry } from '../../src/kube/metrics.js';

describe('controller metrics', () => {
  it('exposes reconcile, queue, API and leader metrics on the exported registry', async () => {
    let done = 0;
    const ctrl = createController({
      name: 'metrics-test',
      reconcile: async (key) => {
        done++;
        if (key === 'bad') throw new Error('x');
      },
      queue: { qps: 0, backoff: { baseDelayMs: 60_000, maxDelayMs: 60_000, jitter: 0 } },
    });
    ctrl.start();
    ctrl.enqueue('good');
    ctrl.enqueue('bad');
    while (done < 2) await new Promise((r) => setTimeout(r, 5));
    await ctrl.stop();
    const text = await metricsRegistry.metrics();
    expect(text).toMatch(/paved_reconcile_total\{controller="metrics-test",result="success"\} 1/);
    expect(text).toMatch(/paved_reconcile_total\{controller="metrics-test",result="error"\} 1/);
    expect(text).toMatch(/paved_reconcile_errors_total\{controller="metrics-test"\} 1/);
    expect(text).toMatch(/paved_reconcile_duration_seconds_count\{controller="metrics-test"\} 2/);
    expect(text).toMatch(/paved_workqueue_queue_duration_seconds_count\{queue="metrics-test"\} 2/);
    expect(text).toMatch(/paved_workqueue_retries_total\{queue="metrics-test"\} 1/);
    expect(text).toContain('paved_workqueue_depth');
    expect(text).toContain('# HELP paved_kube_api_requests_total');
    expect(text).toContain('# HELP paved_leader');
  });
});
