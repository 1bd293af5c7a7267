/**
 * The real Prometheus of the test harness: Prometheus 3 built from tools/prometheus; it scrapes a
 * loopback target (also one that sends no Content-Type), and history backfilled with promtool answers
 * queries over 14 days exactly as the generated data says, also from several files backfilled by
 * promtool processes at once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrometheusDriver } from 'prometheus-query';
import { afterAll, describe, expect, it } from 'vitest';
import { PROMETHEUS_VERSION } from '../../src/localcluster/binaries.js';
import { eventually } from '../support/eventually.js';
import { startPrometheus, type LocalPrometheus } from '../support/prometheus.js';

describe('Prometheus', () => {
  const servers: Server[] = [];
  const proms: LocalPrometheus[] = [];
  afterAll(async () => {
    servers.forEach((s) => s.close());
    await Promise.all(proms.map((p) => p.stop()));
  });

  it(`is Prometheus ${PROMETHEUS_VERSION}, the version tools/prometheus pins`, async () => {
    const prom = await startPrometheus({ scrapeIntervalSeconds: 1 });
    proms.push(prom);
    const res = await fetch(`${prom.url}/api/v1/status/buildinfo`);
    const body = (await res.json()) as { data: { version: string } };
    expect(body.data.version).toBe(PROMETHEUS_VERSION);
  });

  it('scrapes a target that sends no Content-Type (the text format is the fallback)', async () => {
    const prom = await startPrometheus({ scrapeIntervalSeconds: 1 });
    proms.push(prom);
    const server = createServer((_req, res) => {
      res.removeHeader('content-type');
      res.end('paved_untyped_value 7\n');
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    await prom.addTarget('no-content-type', `127.0.0.1:${(server.address() as { port: number }).port}`);
    const driver = new PrometheusDriver({ endpoint: prom.url });
    await eventually(async () => {
      const v = await driver.instantQuery('paved_untyped_value{job="no-content-type"}');
      expect(v.result[0]?.value.value).toBe(7);
    }, { timeoutMs: 30_000, intervalMs: 500 });
  });

  it('scrapes a loopback target (up == 1)', async () => {
    const prom = await startPrometheus({ scrapeIntervalSeconds: 1 });
    proms.push(prom);
    const server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end('paved_test_value 42\n');
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await prom.addTarget('loopback', `127.0.0.1:${port}`);
    const driver = new PrometheusDriver({ endpoint: prom.url });
    await eventually(async () => {
      const up = await driver.instantQuery('up{job="loopback"}');
      expect(up.result[0]?.value.value).toBe(1);
      const v = await driver.instantQuery('paved_test_value{job="loopback"}');
      expect(v.result[0]?.value.value).toBe(42);
    }, { timeoutMs: 30_000, intervalMs: 500 });
  });

  it('answers quantile_over_time over 14 backfilled days with the value of the generated data', async () => {
    // Deterministic series: one sample every 10 minutes for 14 days, values cycling 0..99.
    const end = Math.floor(Date.now() / 1000 / 3600) * 3600 - 3600;
    const step = 600;
    const count = (14 * 24 * 3600) / step;
    const values: number[] = [];
    const lines = ['# TYPE paved_backfill_m gauge'];
    for (let i = 0; i < count; i++) {
      const v = (i * 37) % 100;
      values.push(v);
      lines.push(`paved_backfill_m{series="a"} ${v} ${end - (count - 1 - i) * step}`);
    }
    lines.push('# EOF');
    const prom = await startPrometheus({ backfillOpenMetrics: `${lines.join('\n')}\n` });
    proms.push(prom);
    const driver = new PrometheusDriver({ endpoint: prom.url });

    // Prometheus' quantile: rank = q * (n - 1), linear interpolation between neighbours.
    const sorted = [...values].sort((a, b) => a - b);
    const rank = 0.95 * (sorted.length - 1);
    const lo = Math.floor(rank);
    const expected = sorted[lo]! + (sorted[lo + 1]! - sorted[lo]!) * (rank - lo);

    const at = new Date((end + 1) * 1000);
    const result = await driver.instantQuery('quantile_over_time(0.95, paved_backfill_m{series="a"}[14d])', at);
    expect(result.result[0]?.value.value).toBeCloseTo(expected, 9);
    const n = await driver.instantQuery('count_over_time(paved_backfill_m{series="a"}[14d])', at);
    expect(n.result[0]?.value.value).toBe(count);
  });

  it('backfills several files with two promtool processes at once: never more than two, each file reported once, every series queryable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paved-backfill-test-'));
    const end = Math.floor(Date.now() / 1000 / 3600) * 3600 - 3600;
    let asked = 0;
    const done: string[] = [];
    const running: number[] = [];
    async function* files(): AsyncGenerator<string> {
      for (let f = 0; f < 4; f++) {
        running.push(asked - done.length);
        const file = join(dir, `part-${f}.om`);
        const samples = Array.from({ length: 6 * 24 }, (_, i) => `paved_backfill_part{file="${f}"} ${f} ${end - (6 * 24 - 1 - i) * 600}`);
        writeFileSync(file, ['# TYPE paved_backfill_part gauge', ...samples, '# EOF', ''].join('\n'));
        asked++;
        yield file;
      }
    }
    try {
      const prom = await startPrometheus({ backfillFiles: files(), backfillConcurrency: 2, onBackfilled: (f) => done.push(f) });
      proms.push(prom);
      // Asked for the next file while one was being backfilled, never while two were.
      expect(running).toContain(1);
      expect(running.every((n) => n < 2)).toBe(true);
      expect([...done].sort()).toEqual([0, 1, 2, 3].map((f) => join(dir, `part-${f}.om`)));
      const driver = new PrometheusDriver({ endpoint: prom.url });
      await eventually(async () => {
        const r = await driver.instantQuery('count by (file) (count_over_time(paved_backfill_part[1d]))', new Date((end + 1) * 1000));
        expect(r.result.map((s) => s.metric.labels['file']).sort()).toEqual(['0', '1', '2', '3']);
        expect(r.result.every((s) => s.value.value === 1)).toBe(true);
      }, { timeoutMs: 90_000, intervalMs: 1000 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops asking for files once promtool refuses one, and throws its error after the running ones finish', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paved-backfill-test-'));
    const end = Math.floor(Date.now() / 1000 / 3600) * 3600 - 3600;
    const asked: number[] = [];
    async function* files(): AsyncGenerator<string> {
      for (let f = 0; f < 6; f++) {
        asked.push(f);
        const file = join(dir, `part-${f}.om`);
        const body = f === 1 ? ['this is not OpenMetrics'] : ['# TYPE paved_backfill_part gauge', `paved_backfill_part{file="${f}"} ${f} ${end}`];
        writeFileSync(file, [...body, '# EOF', ''].join('\n'));
        yield file;
      }
    }
    try {
      await expect(startPrometheus({ backfillFiles: files(), backfillConcurrency: 2 })).rejects.toThrow(/promtool could not backfill/);
      // File 1 fails while at most one more is running or asked for: the producer never reaches the end.
      expect(asked.length).toBeLessThan(6);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
