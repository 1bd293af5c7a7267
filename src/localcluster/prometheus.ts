/**
 * A real Prometheus 3 (built from its Go module in tools/prometheus and cached like the cluster's
 * binaries, see binaries.ts) on a free loopback port, with a generated configuration and its own
 * data directory. Scrape targets are file-based service discovery, so they can be added while it
 * runs; history can be backfilled with `promtool tsdb create-blocks-from openmetrics` before it
 * starts, so queries over weeks answer from real blocks.
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PQueue from 'p-queue';
import { stringify } from 'yaml';
import { SetupError } from '../errors.js';
import { ensurePrometheusBinaries } from './binaries.js';
import type { ScrapeTarget } from './exporters.js';
import { freePort, probe, waitFor } from './net.js';
import { reapOrphans, releaseRunDir, runCommand, startProcess, writeOwner, type ManagedProcess } from './process.js';

export const PROMETHEUS_DIR_PREFIX = 'paved-prometheus-';

export interface LocalPrometheus {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly dir: string;
  readonly process: ManagedProcess;
  /** Adds (or replaces) a scrape target; Prometheus picks it up within about a second. */
  addTarget(job: string, hostPort: string, labels?: Record<string, string>, metricsPath?: string): Promise<void>;
  removeTarget(job: string, hostPort: string): Promise<void>;
  /** Scrapes the local cluster's exporters (kwok's per-node resource metrics, kube-state-metrics). */
  scrapeCluster(targets: readonly ScrapeTarget[]): Promise<void>;
  /**
   * Backfills what recording rules would have recorded over past history: each rule's expression
   * evaluated with query_range at `times` (start, end, step in unix seconds), written as blocks and
   * moved into the data directory, where the TSDB loads them within its one-minute block reload.
   * Resolves once every rule that produced samples is queryable. A rule reading the series of an
   * earlier rule (as Prometheus evaluates a group in order) is backfilled after that one is queryable.
   * `promtool tsdb create-from-rules` does the same but evaluates at the group's own offset within the
   * interval.
   */
  backfillRecordingRules(rules: readonly RecordingRuleSpec[], times: { start: number; end: number; step: number }): Promise<number>;
  stop(): Promise<void>;
}

/** A recording rule to backfill: the series name and its PromQL. */
export interface RecordingRuleSpec {
  readonly record: string;
  readonly expr: string;
}

export interface StartPrometheusOptions {
  /** Global scrape and evaluation interval (default 1 s, as the tests need). */
  readonly scrapeIntervalSeconds?: number;
  /** OpenMetrics text (ending in `# EOF`) backfilled into the data directory before start. */
  readonly backfillOpenMetrics?: string;
  /** Or a file of OpenMetrics text, for histories too large for one string (benchmarks). */
  readonly backfillFile?: string;
  /**
   * Or files of OpenMetrics text, each backfilled before the next is asked for (so their producer can
   * write one and delete the last; backfillConcurrency for more at once): a long history written as one
   * file per block range is read twice by promtool in all, instead of once more per block (see `backfill`).
   */
  readonly backfillFiles?: Iterable<string> | AsyncIterable<string>;
  /**
   * With backfillFiles: up to this many promtool processes at once (default 1). promtool keeps about
   * one core busy, so on n cores n files backfill in about the time of one. Above 1 the next file
   * is asked for while others are still being read: its producer deletes a file in `onBackfilled`,
   * not when asked for the next.
   */
  readonly backfillConcurrency?: number;
  /** Called when promtool has written a file's blocks (the file may go). */
  readonly onBackfilled?: (file: string) => void;
  /** Rule files loaded by Prometheus (`rule_files`), evaluated live at their groups' intervals. */
  readonly ruleFiles?: readonly string[];
  readonly onProgress?: (line: string) => void;
  readonly readyTimeoutMs?: number;
  /**
   * Prometheus' `--query.max-samples` and `--query.timeout` (defaults 50,000,000 and 2m): a benchmark
   * may raise them to measure queries a default Prometheus refuses.
   */
  readonly queryLimits?: { readonly maxSamples?: number; readonly timeout?: string };
}

/** The cached Prometheus or promtool binary, built from tools/prometheus on first use. */
async function requireBinary(name: 'prometheus' | 'promtool', onProgress?: (line: string) => void): Promise<string> {
  const binaries = await ensurePrometheusBinaries(onProgress ? { onProgress } : {});
  return binaries[name];
}

/** The scrape configuration: one job whose targets are the JSON files in `targetsDir` (see addTarget). */
function prometheusConfig(interval: string, targetsDir: string, ruleFiles: readonly string[]): Record<string, unknown> {
  return {
    global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
    ...(ruleFiles.length > 0 ? { rule_files: [...ruleFiles] } : {}),
    scrape_configs: [
      {
        job_name: 'paved-targets',
        // Prometheus 3 refuses a scrape without a valid Content-Type; the text format is what every
        // local target (prom-client, kwok, exporters) speaks.
        fallback_scrape_protocol: 'PrometheusText0.0.4',
        file_sd_configs: [{ files: [join(targetsDir, '*.json')], refresh_interval: '1s' }],
        relabel_configs: [
          { source_labels: ['__paved_metrics_path'], regex: '(.+)', target_label: '__metrics_path__' },
          { source_labels: ['__paved_scheme'], regex: '(.+)', target_label: '__scheme__' },
        ],
        // https targets are the local cluster's own loopback endpoints (kwok), signed by a CA made per run.
        tls_config: { insecure_skip_verify: true },
      },
    ],
  };
}

/** Backfills the given history (files, a file, or OpenMetrics text written to a temporary file in `dir`). */
async function backfillFromOptions(options: StartPrometheusOptions, dir: string, dataDir: string): Promise<void> {
  options.onProgress?.('backfilling history with promtool');
  if (options.backfillFiles) {
    await backfillConcurrently(options.backfillFiles, dataDir, Math.max(1, options.backfillConcurrency ?? 1), options.onBackfilled);
    return;
  }
  let input = options.backfillFile;
  if (!input) {
    input = join(dir, 'backfill.om');
    const text = options.backfillOpenMetrics ?? '';
    await writeFile(input, /# EOF\n?$/.test(text) ? text : `${text}# EOF\n`);
  }
  await backfill(input, dataDir);
  if (!options.backfillFile) rmSync(input, { force: true });
}

/**
 * Backfills `files` with up to `n` promtool processes at once: the next file is asked for only when one
 * of them is free, so at most `n` files wait on disk. A failure stops asking; the ones running finish
 * before it is thrown (as does an error of the producer), so nothing writes into the data directory
 * after this returns.
 */
async function backfillConcurrently(files: Iterable<string> | AsyncIterable<string>, dataDir: string, n: number, onBackfilled?: (file: string) => void): Promise<void> {
  const promtools = new PQueue({ concurrency: n });
  let failure: { err: unknown } | undefined;
  promtools.on('error', (err: unknown) => void (failure ??= { err })); // emitted before the slot frees
  const freeSlot = (): Promise<void> => new Promise((resolve) => promtools.once('next', () => resolve()));
  try {
    for await (const file of files) {
      promtools.add(async () => {
        await backfill(file, dataDir);
        onBackfilled?.(file);
      }).catch(() => undefined); // the 'error' listener keeps the first failure
      while (promtools.pending >= n && !failure) await freeSlot();
      if (failure) break;
    }
  } finally {
    await promtools.onIdle();
  }
  if (failure) throw failure.err;
}

/** Starts a Prometheus; on failure nothing is left running or on disk. */
export async function startPrometheus(options: StartPrometheusOptions = {}): Promise<LocalPrometheus> {
  reapOrphans(PROMETHEUS_DIR_PREFIX);
  const prometheus = await requireBinary('prometheus', options.onProgress);
  const interval = `${options.scrapeIntervalSeconds ?? 1}s`;
  const dir = mkdtempSync(join(tmpdir(), PROMETHEUS_DIR_PREFIX));
  let proc: ManagedProcess | undefined;
  try {
    const dataDir = join(dir, 'data');
    const targetsDir = join(dir, 'targets');
    await mkdir(dataDir, { recursive: true });
    await mkdir(targetsDir, { recursive: true });
    if (options.backfillOpenMetrics || options.backfillFile || options.backfillFiles) await backfillFromOptions(options, dir, dataDir);
    const config = prometheusConfig(interval, targetsDir, options.ruleFiles ?? []);
    await writeFile(join(dir, 'prometheus.yml'), stringify(config));
    const port = await freePort();
    proc = startProcess('prometheus', prometheus, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${dataDir}`,
      '--storage.tsdb.retention.time=3650d', // backfilled history is weeks old: keep it
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      '--log.level=warn',
      ...(options.queryLimits?.maxSamples ? [`--query.max-samples=${options.queryLimits.maxSamples}`] : []),
      ...(options.queryLimits?.timeout ? [`--query.timeout=${options.queryLimits.timeout}`] : []),
    ], join(dir, 'prometheus.log'));
    writeOwner(dir, [proc.pid]);
    const url = `http://127.0.0.1:${port}`;
    const running = proc;
    const ready = await waitFor(async () => running.hasExited() || (await probe(`${url}/-/ready`)).status === 200,
      options.readyTimeoutMs ?? 60_000);
    if (!ready || proc.hasExited()) {
      throw new SetupError(
        proc.hasExited() ? `prometheus exited (${await proc.exited})` : 'prometheus did not become ready',
        `read ${proc.logFile}; the last lines are below`,
        await proc.tail(),
      );
    }
    const targetFile = (job: string, hostPort: string) =>
      join(targetsDir, `${job}-${hostPort}`.replace(/[^A-Za-z0-9_.-]/g, '_') + '.json');
    return {
      url,
      dir,
      process: proc,
      async addTarget(job, hostPort, labels = {}, metricsPath) {
        const entry = [{ targets: [hostPort], labels: { job, ...labels, ...(metricsPath ? { __paved_metrics_path: metricsPath } : {}) } }];
        const file = targetFile(job, hostPort);
        await writeFile(`${file}.tmp`, JSON.stringify(entry));
        await rename(`${file}.tmp`, file); // atomic: Prometheus never reads half a file
      },
      async scrapeCluster(targets) {
        for (const t of targets) {
          // One file per target: kwok serves every node's endpoint on the same host:port.
          const file = targetFile(t.job, `${t.hostPort}${t.metricsPath}`);
          const entry = [{ targets: [t.hostPort], labels: { job: t.job, ...t.labels, __paved_metrics_path: t.metricsPath, __paved_scheme: t.scheme } }];
          await writeFile(`${file}.tmp`, JSON.stringify(entry));
          await rename(`${file}.tmp`, file);
        }
      },
      async removeTarget(job, hostPort) {
        await rm(targetFile(job, hostPort), { force: true });
      },
      backfillRecordingRules: (rules, times) => backfillRecordingRules(url, dir, dataDir, rules, times),
      async stop() {
        await running.stop();
        rmSync(dir, { recursive: true, force: true });
        releaseRunDir(dir);
      },
    };
  } catch (err) {
    await proc?.stop();
    rmSync(dir, { recursive: true, force: true });
    releaseRunDir(dir);
    throw err;
  }
}

/** The length of the blocks `backfill` writes (promtool's 486 h compaction range), aligned to multiples of it. */
export const BACKFILL_BLOCK_SECONDS = 486 * 3600;

/** Writes TSDB blocks for an OpenMetrics file into `dataDir`. */
async function backfill(input: string, dataDir: string): Promise<void> {
  const promtool = await requireBinary('promtool');
  // Long blocks instead of promtool's default 2 h: promtool reads the whole input once for its time
  // range and then once per block, so 30 days go from 361 passes to three or four (a hidden flag, which
  // rounds down to a compaction range: blocks of 486 h, aligned to multiples of it since the epoch).
  const { code, tail } = await runCommand(promtool, [
    'tsdb', 'create-blocks-from', 'openmetrics', '--quiet', '--max-block-duration=744h', input, dataDir,
  ]);
  if (code !== 0) {
    throw new SetupError('promtool could not backfill the given OpenMetrics text', 'fix the input; promtool said:', tail);
  }
}

interface QueryRangeBody {
  status: string;
  error?: string;
  data?: { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
}

async function queryRange(url: string, query: string, times: { start: number; end: number; step: number }): Promise<QueryRangeBody> {
  const res = await fetch(`${url}/api/v1/query_range`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query, start: String(times.start), end: String(times.end), step: String(times.step), timeout: '600s' }),
  });
  const body = (await res.json()) as QueryRangeBody;
  if (body.status !== 'success') throw new SetupError(`Prometheus refused a recording rule's query: ${body.error ?? res.status}`, 'fix the rule', query);
  return body;
}

/** Longest range one query_range covers (Prometheus caps a query's time at --query.timeout, 2 min). */
const QUERY_PART_SECONDS = 7 * 86_400;

/**
 * query_range over `times` in parts of at most a week, merged per series (labels in OpenMetrics form),
 * each series' values in time order.
 */
async function queryRangeInParts(
  url: string,
  query: string,
  times: { start: number; end: number; step: number },
): Promise<Map<string, Array<[number, string]>>> {
  const bySeries = new Map<string, Array<[number, string]>>();
  const span = Math.max(times.step, Math.floor(QUERY_PART_SECONDS / times.step) * times.step);
  for (let start = times.start; start <= times.end; start += span) {
    const end = Math.min(times.end, start + span - times.step);
    const body = await queryRange(url, query, { start, end, step: times.step });
    for (const series of body.data?.result ?? []) {
      const labels = openMetricsLabels(series.metric);
      const values = bySeries.get(labels) ?? [];
      if (values.length === 0) bySeries.set(labels, values);
      for (const value of series.values) values.push(value);
    }
  }
  return bySeries;
}

const openMetricsLabels = (labels: Record<string, string>): string =>
  Object.entries(labels)
    .filter(([k]) => k !== '__name__')
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');

/**
 * What `rules` would have recorded at `times`, as OpenMetrics text in `file`: streamed (30 days of
 * recorded series are more text than one string may hold), a family's lines together, each series in
 * time order. Returns the samples written and the rules that produced any.
 */
async function writeRecordedSeries(
  url: string,
  rules: readonly RecordingRuleSpec[],
  times: { start: number; end: number; step: number },
  file: string,
): Promise<{ samples: number; produced: string[] }> {
  const out = createWriteStream(file, { highWaterMark: 4 * 1024 * 1024 });
  const write = async (text: string): Promise<void> => {
    if (!out.write(text)) await once(out, 'drain');
  };
  let samples = 0;
  const produced: string[] = [];
  try {
    for (const rule of rules) {
      const bySeries = await queryRangeInParts(url, rule.expr, times);
      if (bySeries.size > 0) produced.push(rule.record);
      for (const [labels, values] of bySeries) {
        samples += values.length;
        await write(values.map(([t, v]) => `${rule.record}{${labels}} ${v} ${t}\n`).join(''));
      }
    }
    await write('# EOF\n');
  } finally {
    out.end();
    await once(out, 'close');
  }
  return { samples, produced };
}

/**
 * The rules in backfill stages: a rule whose expression reads the series of an earlier rule goes in a
 * stage after that rule's (its input must be in the TSDB before its own query runs).
 */
export function backfillStages(rules: readonly RecordingRuleSpec[]): RecordingRuleSpec[][] {
  const stageOf = new Map<string, number>();
  const stages: RecordingRuleSpec[][] = [];
  for (const rule of rules) {
    let stage = 0;
    // Every name-shaped token of the expression (metric names, labels, functions): a superset of
    // the series it reads, which is all a dependency needs.
    for (const token of rule.expr.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? []) {
      const k = stageOf.get(token);
      if (k !== undefined) stage = Math.max(stage, k + 1);
    }
    stageOf.set(rule.record, stage);
    (stages[stage] ??= []).push(rule);
  }
  return stages.filter((s) => s.length > 0);
}

/** See LocalPrometheus.backfillRecordingRules; returns the number of samples written. */
async function backfillRecordingRules(
  url: string,
  dir: string,
  dataDir: string,
  rules: readonly RecordingRuleSpec[],
  times: { start: number; end: number; step: number },
): Promise<number> {
  let samples = 0;
  for (const stage of backfillStages(rules)) samples += await backfillStage(url, dir, dataDir, stage, times);
  return samples;
}

/** Backfills rules that read no series of each other, and waits until what they produced is queryable. */
async function backfillStage(
  url: string,
  dir: string,
  dataDir: string,
  rules: readonly RecordingRuleSpec[],
  times: { start: number; end: number; step: number },
): Promise<number> {
  const work = mkdtempSync(join(dir, 'recorded-'));
  const input = join(work, 'recorded.om');
  const blocks = join(work, 'blocks');
  let samples = 0;
  let produced: string[] = [];
  try {
    ({ samples, produced } = await writeRecordedSeries(url, rules, times, input));
    await mkdir(blocks, { recursive: true });
    await backfill(input, blocks);
    for (const block of await readdir(blocks)) await rename(join(blocks, block), join(dataDir, block));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  // The TSDB picks new blocks up on its next reload (every minute).
  const visible = async (): Promise<boolean> => {
    for (const record of produced) {
      const res = await fetch(`${url}/api/v1/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ query: `count(count_over_time(${record}[${times.end - times.start + times.step}s] @ ${times.end}))` }),
      });
      const body = (await res.json()) as { data?: { result?: unknown[] } };
      if ((body.data?.result ?? []).length === 0) return false;
    }
    return true;
  };
  if (!(await waitFor(visible, 150_000, 2_000))) {
    throw new SetupError('the backfilled recording-rule blocks did not become queryable', 'read the Prometheus log', '');
  }
  return samples;
}
