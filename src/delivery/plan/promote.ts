/** Promotion: the stable Deployment takes the new template while the canary still serves; then idle. */
import { DeliveryReasons } from '../types.js';
import { POLL_MS, type Planner } from './planner.js';
import { isStableReady } from './readiness.js';

export function startPromotion(p: Planner, why: string): void {
  p.archiveRun('promoted');
  p.archiveBackground('promoted');
  p.clearPause();
  p.state.phase = 'Promoting';
  p.state.promotingSince = p.nowIso;
  p.state.message = `promoting revision ${p.state.canaryRevision}: the stable Deployment takes the new template (${why})`;
  p.event('Normal', DeliveryReasons.RolloutPromoting, p.state.message);
}

export function promote(p: Planner): void {
  const s = p.state;
  if (isStableReady(p.obs.stable, s.canaryRevision)) {
    const revision = s.canaryRevision as string;
    s.stableRevision = revision;
    s.weight = 0;
    s.phase = 'Healthy';
    s.completedAt = p.nowIso;
    delete s.promotingSince;
    if (p.spec.scaleDownDelayMs > 0) {
      s.canaryScaleDownAt = new Date(p.now.getTime() + p.spec.scaleDownDelayMs).toISOString();
      p.requeue(p.spec.scaleDownDelayMs);
    }
    s.message = `revision ${revision} promoted: the stable Deployment runs it and receives all traffic`;
    p.records.push({ kind: 'succeeded', leadTimeMs: p.since(s.startedAt) });
    p.event('Normal', DeliveryReasons.RolloutPromoted, s.message);
    return;
  }
  const waited = p.since(s.promotingSince);
  const base = `promoting revision ${s.canaryRevision}: waiting for the stable Deployment to be Ready with it (traffic stays on the canary)`;
  if (waited >= p.spec.progressDeadlineMs && !s.message?.includes('deadline')) {
    s.message = `${base}; progress deadline of ${p.spec.progressDeadlineMs / 1000}s exceeded`;
    p.event('Warning', DeliveryReasons.PromotionStalled, s.message);
  } else if (!s.message?.includes('deadline')) {
    s.message = base;
  }
  p.requeue(POLL_MS);
}

export function idle(p: Planner): void {
  const at = p.state.canaryScaleDownAt;
  if (at === undefined) return;
  const left = Date.parse(at) - p.now.getTime();
  if (left <= 0) delete p.state.canaryScaleDownAt;
  else p.requeue(left);
}
