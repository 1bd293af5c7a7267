import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { TerminalError, InvalidSpecError } from '../../src/errors.js';
import { kubeApiErrorFrom } from '../../src/kube/api-errors.js';
import { FakeClock } from '../../src/kube/clock.js';
import { createController, type ReconcileOutcome } from '../../src/kube/controller.js';

function memoryLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('createController', () => {
  it('maps outcomes: success, requeueAfter, NotFound, terminal, error (incl. sync throw) -> rate-limited', async () => {
    const clock = new FakeClock();
    const outcomes: Array<[string, ReconcileOutcome]> = [];
    const { logger, lines } = memoryLogger();
    const ctrl = createController({
      name: 'outcomes',
      workers: 2,
      logger,
      queue: { clock, random: () => 0, qps: 0, backoff: { baseDelayMs: 100, maxDelayMs: 10_000, jitter: 0 } },
      onOutcome: (key, o) => outcomes.push([key, o]),
      reconcile: async (key) => {
        switch (key) {
          case 'ns/ok':
            return;
          case 'ns/wait':
            return { requeueAfter: 30_000 };
          case 'ns/gone':
            throw kubeApiErrorFrom(404, { reason: 'NotFound' });
          case 'ns/bad':
            throw new InvalidSpecError('spec.x', 'must be positive');
          case 'ns/term':
            throw new TerminalError('no');
          case 'ns/panic':
            (undefined as unknown as () => void)(); // TypeError, thrown synchronously
            return;
          default:
            throw new Error('transient');
        }
      },
    });
    ctrl.start();
    for (const k of ['ns/ok', 'ns/wait', 'ns/gone', 'ns/bad', 'ns/term', 'ns/panic', 'ns/flaky']) ctrl.enqueue(k);
    await until(() => outcomes.length === 7);
    expect(Object.fromEntries(outcomes)).toEqual({
      'ns/ok': 'success',
      'ns/wait': 'requeue',
      'ns/gone': 'notfound',
      'ns/bad': 'terminal',
      'ns/term': 'terminal',
      'ns/panic': 'error',
      'ns/flaky': 'error',
    });
    expect(ctrl.queue.numRequeues('ns/flaky')).toBe(1);
    expect(ctrl.queue.numRequeues('ns/bad')).toBe(0);
    expect(ctrl.queue.delayedCount()).toBe(3); // wait, panic, flaky

    // The rate-limited ones come back after 100 ms, the requeue after 30 s.
    clock.advance(100);
    await until(() => outcomes.length === 9);
    expect(ctrl.queue.numRequeues('ns/flaky')).toBe(2);
    clock.advance(30_000);
    await until(() => outcomes.filter(([k]) => k === 'ns/wait').length === 2);

    // One closing line per reconcile, with the child-logger fields.
    const closing = lines.filter((l) => l.msg === 'reconcile finished');
    expect(closing.length).toBe(outcomes.length);
    const failed = closing.find((l) => l.name === 'flaky');
    expect(failed).toMatchObject({ controller: 'outcomes', namespace: 'ns', name: 'flaky', result: 'error', err: 'transient', retryInMs: 100 });
    expect(typeof failed?.reconcileId).toBe('string');
    expect(typeof failed?.durationMs).toBe('number');
    expect(await ctrl.stop()).toBe(true);
  });

  it('runs different keys concurrently up to `workers`, never the same key twice at once', async () => {
    let running = 0;
    let maxRunning = 0;
    const inFlight = new Set<string>();
    let overlap = false;
    let calls = 0;
    const ctrl = createController({
      name: 'concurrency',
      workers: 3,
      reconcile: async (key) => {
        if (inFlight.has(key)) overlap = true;
        inFlight.add(key);
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        inFlight.delete(key);
        calls++;
      },
    });
    ctrl.start();
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 10; i++) ctrl.enqueue(`k${i % 4}`);
      await new Promise((r) => setTimeout(r, 3));
    }
    await until(() => ctrl.queue.len() === 0 && ctrl.queue.processingCount() === 0 && calls > 0);
    expect(overlap).toBe(false);
    expect(maxRunning).toBe(3);
    expect(calls).toBeLessThan(50); // de-duplicated
    await ctrl.stop();
  });

  it('stop() waits for in-flight reconciles, bounded', async () => {
    const releases: Array<() => void> = [];
    const blocking = () => new Promise<void>((r) => releases.push(r));
    const ctrl = createController({ name: 'drain', workers: 1, reconcile: blocking });
    ctrl.start();
    ctrl.enqueue('a');
    await until(() => releases.length === 1);
    expect(await ctrl.stop({ drainTimeoutMs: 20 })).toBe(false);
    const ctrl2 = createController({ name: 'drain2', workers: 1, reconcile: blocking });
    ctrl2.start();
    ctrl2.enqueue('b');
    await until(() => releases.length === 2);
    const stopping = ctrl2.stop({ drainTimeoutMs: 5000 });
    releases[1]?.();
    expect(await stopping).toBe(true);
    releases[0]?.();
  });
});
