/**
 * Kubernetes Events (events.k8s.io/v1), emitted on transitions only: reconcilers call
 * `recordConditionTransitions(obj, before, after)` with the conditions they read and the ones they write,
 * so a steady-state reconcile emits nothing. Emitting is best-effort: failures are logged, never thrown.
 */
import { randomBytes } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';
import { describeError } from '../errors.js';
import type { KubeClients } from './client.js';
import { conditionTransitions, type Condition } from './conditions.js';

/** Normal or Warning. */
export type EventType = 'Normal' | 'Warning';

/** One Event. */
export interface EventInput {
  type: EventType;
  /** PascalCase, from Reasons. */
  reason: string;
  /** What happened, for people (truncated to 1 kB). */
  note: string;
  /** What paved did or failed to do (PascalCase), default = reason. */
  action?: string;
}

/** Options of the recorder. */
export interface EventRecorderOptions {
  /** reportingController, default `paved.dev/controller`. */
  controller?: string;
  /** reportingInstance (the pod name), default `paved`. */
  instance?: string;
  logger?: Logger;
  /** Time source for eventTime. */
  now?: () => Date;
}

function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Emits Events about objects. */
export class EventRecorder {
  private readonly controller: string;
  private readonly instance: string;
  private readonly log: Logger;
  private readonly now: () => Date;

  constructor(
    private readonly clients: KubeClients,
    opts: EventRecorderOptions = {},
  ) {
    this.controller = opts.controller ?? 'paved.dev/controller';
    this.instance = opts.instance ?? 'paved';
    this.log = opts.logger ?? pino({ level: 'silent' });
    this.now = opts.now ?? (() => new Date());
  }

  /** Emits one Event about `regarding` (cluster-scoped objects get their Events in `default`). Never throws. */
  async event(regarding: KubernetesObject, input: EventInput): Promise<void> {
    const name = regarding.metadata?.name ?? 'unknown';
    const namespace = regarding.metadata?.namespace || 'default';
    const body = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: `${name.slice(0, 200)}.${randomBytes(8).toString('hex')}`, namespace },
      eventTime: microTime(this.now()),
      reportingController: this.controller,
      reportingInstance: this.instance,
      action: input.action ?? input.reason,
      reason: input.reason,
      note: input.note.slice(0, 1024),
      type: input.type,
      regarding: {
        apiVersion: regarding.apiVersion,
        kind: regarding.kind,
        name,
        ...(regarding.metadata?.namespace ? { namespace: regarding.metadata.namespace } : {}),
        ...(regarding.metadata?.uid ? { uid: regarding.metadata.uid } : {}),
        ...(regarding.metadata?.resourceVersion ? { resourceVersion: regarding.metadata.resourceVersion } : {}),
      },
    };
    try {
      await this.clients.request({ method: 'POST', path: `/apis/events.k8s.io/v1/namespaces/${namespace}/events`, body });
    } catch (err) {
      this.log.warn({ err: describeError(err), reason: input.reason, object: name }, 'could not emit event');
    }
  }

  /**
   * Emits one Event per condition whose status or reason changed between `before` and `after`.
   * Warning when the new state is bad (Ready/Available False, Degraded/Stalled True), Normal otherwise.
   */
  async recordConditionTransitions(
    regarding: KubernetesObject,
    before: readonly Condition[] | undefined,
    after: readonly Condition[] | undefined,
  ): Promise<number> {
    const transitions = conditionTransitions(before, after);
    for (const t of transitions) {
      const bad =
        ((t.type === 'Ready' || t.type === 'Available') && t.to.status === 'False') ||
        ((t.type === 'Degraded' || t.type === 'Stalled') && t.to.status === 'True');
      await this.event(regarding, {
        type: bad ? 'Warning' : 'Normal',
        reason: t.to.reason,
        note: `${t.type} ${t.from?.status ?? 'unset'} -> ${t.to.status}${t.to.message ? `: ${t.to.message}` : ''}`,
      });
    }
    return transitions.length;
  }
}
