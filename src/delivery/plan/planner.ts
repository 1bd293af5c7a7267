/** The mutable working set of one planning pass, shared by the phase modules of the planner. */
import type { AnalysisRun } from '../../analysis/types.js';
import { MAX_HISTORY, type DeliverySpec, type Observations, type RolloutEvent, type RolloutRecord, type RolloutState } from '../types.js';

/** How often to look at pods while waiting for them (informer events usually come first). */
export const POLL_MS = 5_000;

/** The mutable working set of one planning pass (local to `plan`, never shared). */
export class Planner {
  state: RolloutState;
  readonly events: RolloutEvent[] = [];
  readonly records: RolloutRecord[] = [];
  requeueAfterMs: number | undefined;
  readonly nowIso: string;

  constructor(
    readonly prev: RolloutState,
    readonly obs: Observations,
    readonly spec: DeliverySpec,
    readonly now: Date,
  ) {
    this.state = structuredClone(prev);
    this.nowIso = now.toISOString();
  }

  get stableReplicas(): number {
    return this.obs.stable?.replicas ?? 0;
  }

  since(iso: string | undefined): number {
    return iso === undefined ? 0 : this.now.getTime() - Date.parse(iso);
  }

  requeue(ms: number): void {
    const v = Math.max(0, Math.ceil(ms));
    this.requeueAfterMs = this.requeueAfterMs === undefined ? v : Math.min(this.requeueAfterMs, v);
  }

  event(type: RolloutEvent['type'], reason: string, message: string): void {
    this.events.push({ type, reason, message });
  }

  // ---- transitions ----

  archiveRun(why: string): void {
    const run = this.state.currentRun;
    if (!run) return;
    const finished: AnalysisRun =
      run.phase === 'Running'
        ? { ...run, phase: 'Inconclusive', message: `abandoned: ${why}`, finishedAt: this.nowIso }
        : run;
    this.state.history = [...this.state.history, finished].slice(-MAX_HISTORY);
    delete this.state.currentRun;
  }

  /** Moves the background run (if any) to the history. */
  archiveBackground(why: string): void {
    const run = this.state.backgroundRun;
    if (!run) return;
    const finished: AnalysisRun =
      run.phase === 'Running' ? { ...run, phase: 'Inconclusive', message: `abandoned: ${why}`, finishedAt: this.nowIso } : run;
    this.state.history = [...this.state.history, finished].slice(-MAX_HISTORY);
    delete this.state.backgroundRun;
  }

  clearPause(): void {
    delete this.state.pauseReason;
    delete this.state.pausedAt;
  }

  // ---- manual controls ----

  // ---- spec changes ----

  // ---- phases ----


}
