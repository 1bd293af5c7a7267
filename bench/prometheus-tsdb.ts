/**
 * A benchmark's view of its Prometheus' TSDB (bench/cost.ts, bench/rightsizing.ts): compaction counters
 * and loaded blocks from Prometheus' own /metrics, and waits for its compaction to settle.
 */
export function metric(text: string, name: string): number {
  return Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
}

export async function promMetrics(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

export interface CompactionState {
  readonly triggered: number;
  readonly compactions: number;
  readonly blocks: number;
  readonly prometheusRssMB: number;
}

export async function compactionState(url: string): Promise<CompactionState> {
  const text = await promMetrics(url);
  return {
    triggered: metric(text, 'prometheus_tsdb_compactions_triggered_total'),
    compactions: metric(text, 'prometheus_tsdb_compactions_total'),
    blocks: metric(text, 'prometheus_tsdb_blocks_loaded'),
    prometheusRssMB: Math.round(metric(text, 'process_resident_memory_bytes') / 1024 / 1024),
  };
}

/**
 * Prometheus reloads its blocks and runs a compaction pass one minute after start (then every
 * minute); wait for the first pass to be triggered and the number of loaded blocks to settle, so the
 * figures are after it.
 */
export async function settleCompaction(url: string): Promise<CompactionState> {
  const deadline = Date.now() + 10 * 60_000;
  let state = await compactionState(url);
  while (Date.now() < deadline && !(state.triggered >= 1)) {
    await new Promise((r) => setTimeout(r, 2_000));
    state = await compactionState(url);
  }
  let stableSince = Date.now();
  while (Date.now() < deadline && Date.now() - stableSince < 30_000) {
    await new Promise((r) => setTimeout(r, 2_000));
    const now = await compactionState(url);
    if (now.blocks !== state.blocks || now.compactions !== state.compactions) stableSince = Date.now();
    state = now;
  }
  return state;
}

/** Waits until Prometheus has at most `blocks` blocks loaded (overlapping backfilled blocks merged). */
export async function waitForBlocks(url: string, blocks: number, timeoutMs: number): Promise<CompactionState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await compactionState(url);
    if (state.blocks <= blocks) return state;
    if (Date.now() > deadline) throw new Error(`${state.blocks} blocks still loaded after ${timeoutMs / 1000} s (waiting for ${blocks})`);
    await new Promise((r) => setTimeout(r, 2_000));
  }
}
