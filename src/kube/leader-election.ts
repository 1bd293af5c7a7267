/**
 * Leader election on a coordination.k8s.io/v1 Lease (the client-go algorithm):
 * - every `retryPeriodMs` each candidate reads the Lease; it may take it when it is free (no holder), or
 *   when the holder has not renewed it for `leaseDurationSeconds` *as observed by this candidate's own
 *   clock* (the time it last saw the record change), which tolerates clock skew between nodes;
 * - writes are optimistic (PUT with resourceVersion), so two candidates never both win;
 * - the leader renews every `retryPeriodMs`; if it cannot renew for `renewDeadlineMs` (< lease duration)
 *   it stops leading before anyone else may take over;
 * - on graceful shutdown the leader releases the Lease (empty holder) so a standby takes over at once.
 */
import { pino, type Logger } from 'pino';
import { describeError } from '../errors.js';
import { isConflict, isAlreadyExists, isNotFound } from './api-errors.js';
import type { KubeClients } from './client.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { kubeMetrics } from './metrics.js';

/** Lease spec fields used for election. */
export interface LeaseRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseRecord;
}

/** Options of a LeaderElector. */
export interface LeaderElectorOptions {
  clients: KubeClients;
  /** Namespace and name of the Lease. */
  namespace: string;
  name: string;
  /** Unique per replica (pod name). */
  identity: string;
  /** Default 15 s (rounded to whole seconds in the Lease). */
  leaseDurationMs?: number;
  /** Default 2/3 of the lease duration. */
  renewDeadlineMs?: number;
  /** Default 1/7 of the lease duration (>= 200 ms). */
  retryPeriodMs?: number;
  onStartedLeading?: () => void | Promise<void>;
  onStoppedLeading?: () => void | Promise<void>;
  /** Called when the observed holder changes (including to ourselves). */
  onNewLeader?: (identity: string | undefined) => void;
  logger?: Logger;
  clock?: Clock;
  random?: () => number;
}

function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

type Attempt = 'leading' | 'held' | 'failed';

/** See the module header. */
export class LeaderElector {
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private leading = false;
  private stopped = true;
  private timer?: TimerHandle;
  private ticking?: Promise<void>;
  private lastRenew = 0;
  private observed?: string;
  private observedTime = 0;
  private observedHolder?: string;
  private lease?: Lease;

  constructor(private readonly opts: LeaderElectorOptions) {
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    this.log = (opts.logger ?? pino({ level: 'silent' })).child({ lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? Math.round((this.leaseDurationMs * 2) / 3);
    this.retryPeriodMs = opts.retryPeriodMs ?? Math.max(200, Math.round(this.leaseDurationMs / 7));
    if (this.renewDeadlineMs >= this.leaseDurationMs) throw new Error('renewDeadlineMs must be shorter than leaseDurationMs');
  }

  /** Starts campaigning in the background. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** True while this replica holds the lease. */
  isLeader(): boolean {
    return this.leading;
  }

  /** The holder this replica last observed. */
  currentLeader(): string | undefined {
    return this.observedHolder;
  }

  /** Stops campaigning; when leading, stops leading and (by default) releases the Lease. */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking;
    if (!this.leading) return;
    if (opts.release ?? true) await this.release();
    await this.setLeading(false);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
      });
    }, delayMs);
  }

  private async tick(): Promise<void> {
    let attempt: Attempt;
    try {
      attempt = await this.tryAcquireOrRenew();
    } catch (err) {
      this.log.warn({ err: describeError(err) }, 'lease acquire/renew failed');
      attempt = 'failed';
    }
    if (this.stopped) return;
    const now = this.clock.now();
    if (attempt === 'leading') {
      this.lastRenew = now;
      if (!this.leading) await this.setLeading(true);
    } else if (this.leading && (attempt === 'held' || now - this.lastRenew >= this.renewDeadlineMs)) {
      await this.setLeading(false);
    }
    // Standbys add jitter so they do not all hit the API server at the same instant.
    this.schedule(this.leading ? this.retryPeriodMs : this.retryPeriodMs * (1 + 0.2 * this.random()));
  }

  private async setLeading(leading: boolean): Promise<void> {
    if (this.leading === leading) return;
    this.leading = leading;
    kubeMetrics.leader.set({ lease: `${this.opts.namespace}/${this.opts.name}` }, leading ? 1 : 0);
    this.log.info(leading ? 'started leading' : 'stopped leading');
    try {
      await (leading ? this.opts.onStartedLeading?.() : this.opts.onStoppedLeading?.());
    } catch (err) {
      this.log.error({ err: describeError(err) }, 'leadership callback failed');
    }
  }

  private observe(record: LeaseRecord, now: number): void {
    const text = JSON.stringify(record);
    if (text !== this.observed) {
      this.observed = text;
      this.observedTime = now;
    }
    if (record.holderIdentity !== this.observedHolder) {
      this.observedHolder = record.holderIdentity;
      this.opts.onNewLeader?.(record.holderIdentity);
    }
  }

  private path(name?: string): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.opts.namespace}/leases${name ? `/${name}` : ''}`;
  }

  private async tryAcquireOrRenew(): Promise<Attempt> {
    const now = this.clock.now();
    const { clients, identity, name, namespace } = this.opts;
    const durationSeconds = Math.max(1, Math.round(this.leaseDurationMs / 1000));
    let lease: Lease | undefined;
    try {
      lease = await clients.request<Lease>({ method: 'GET', path: this.path(name) });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (!lease) {
      const spec: LeaseRecord = { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 };
      try {
        this.lease = await clients.request<Lease>({
          method: 'POST',
          path: this.path(),
          body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec },
        });
      } catch (err) {
        if (isAlreadyExists(err) || isConflict(err)) return 'held';
        throw err;
      }
      this.observe(spec, now);
      return 'leading';
    }
    const record = lease.spec ?? {};
    this.observe(record, now);
    const holder = record.holderIdentity;
    const heldByOther = !!holder && holder !== identity;
    const expiryMs = (record.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (heldByOther && this.observedTime + expiryMs > now) return 'held';
    const spec: LeaseRecord = {
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      acquireTime: holder === identity && record.acquireTime ? record.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: (record.leaseTransitions ?? 0) + (holder === identity ? 0 : 1),
    };
    try {
      this.lease = await clients.request<Lease>({ method: 'PUT', path: this.path(name), body: { ...lease, spec } });
    } catch (err) {
      if (isConflict(err)) return 'held';
      throw err;
    }
    this.observe(spec, now);
    return 'leading';
  }

  private async release(): Promise<void> {
    try {
      const lease = await this.opts.clients.request<Lease>({ method: 'GET', path: this.path(this.opts.name) });
      if (lease.spec?.holderIdentity !== this.opts.identity) return;
      const now = this.clock.now();
      const spec: LeaseRecord = {
        leaseDurationSeconds: 1,
        acquireTime: microTime(now),
        renewTime: microTime(now),
        leaseTransitions: lease.spec.leaseTransitions ?? 0,
      };
      await this.opts.clients.request({ method: 'PUT', path: this.path(this.opts.name), body: { ...lease, spec } });
      this.log.info('lease released');
    } catch (err) {
      this.log.warn({ err: describeError(err) }, 'could not release lease');
    }
  }
}
