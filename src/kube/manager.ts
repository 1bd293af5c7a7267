/**
 * The manager runs informers and controllers together, gated by leader election:
 * - informers start on every replica (standbys keep warm caches and a queue of every key);
 * - controllers run only while this replica leads (or always, without leader election);
 * - losing the lease stops the controllers for good and resolves `done` with 'lost-leadership':
 *   main.ts should then exit so the process restarts clean (client-go does the same);
 * - `stop()` is the graceful shutdown: shut the queues and stop informers, drain in-flight reconciles
 *   (bounded), then release the lease so a standby takes over immediately.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';
import type { Controller } from './controller.js';
import type { Informer } from './informer.js';
import { LeaderElector, type LeaderElectorOptions } from './leader-election.js';

/** Options of createManager. */
export interface ManagerOptions {
  logger?: Logger;
  /** Leader election settings; omit or false to run controllers unconditionally. */
  leaderElection?: Omit<LeaderElectorOptions, 'onStartedLeading' | 'onStoppedLeading' | 'logger'> | false;
  /** How long start() waits for informer caches. Default 120 s. */
  syncTimeoutMs?: number;
  /** Bound of the drain on stop. Default 10 s. */
  drainTimeoutMs?: number;
}

/** What the manager (and a benchmark) does with an informer, whatever its object type: start, sync, resync, stop. */
export type RunnableInformer = Pick<Informer<KubernetesObject>, 'start' | 'waitForSync' | 'stop' | 'resync'>;

/** Runs informers and controllers; see the module header. */
export interface Manager {
  addInformer(...informers: RunnableInformer[]): void;
  addController(...controllers: Controller[]): void;
  /** Starts informers, waits for their caches, then campaigns (or starts controllers directly). */
  start(): Promise<void>;
  /** Graceful shutdown. Idempotent. */
  stop(): Promise<void>;
  /** True while controllers are running (leading, or no leader election). */
  isActive(): boolean;
  /** The elector, when leader election is on. */
  readonly elector: LeaderElector | undefined;
  /** Resolves when the manager has stopped: 'stopped' (stop()) or 'lost-leadership'. */
  readonly done: Promise<'stopped' | 'lost-leadership'>;
}

/** Creates a manager. */
export function createManager(opts: ManagerOptions = {}): Manager {
  const log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'manager' });
  const informers: RunnableInformer[] = [];
  const controllers: Controller[] = [];
  let active = false;
  let lost = false;
  let stopping: Promise<void> | undefined;
  let resolveDone!: (r: 'stopped' | 'lost-leadership') => void;
  const done = new Promise<'stopped' | 'lost-leadership'>((r) => (resolveDone = r));

  const startControllers = (): void => {
    if (stopping || lost) return;
    active = true;
    controllers.forEach((c) => c.start());
  };
  const stopControllers = async (): Promise<void> => {
    active = false;
    await Promise.all(controllers.map((c) => c.stop({ drainTimeoutMs: opts.drainTimeoutMs ?? 10_000 })));
  };

  const elector = opts.leaderElection
    ? new LeaderElector({
        ...opts.leaderElection,
        logger: log,
        onStartedLeading: startControllers,
        onStoppedLeading: async () => {
          if (stopping) return;
          lost = true;
          log.error('lost leadership; stopping controllers');
          // Not awaited: stop() waits for the current election tick, which is running this callback.
          void elector?.stop({ release: false });
          await stopControllers();
          resolveDone('lost-leadership');
        },
      })
    : undefined;

  return {
    elector,
    done,
    addInformer(...more) {
      // Shared informers may be handed in by several consumers: each runs once.
      for (const i of more) if (!informers.includes(i)) informers.push(i);
    },
    addController(...more) {
      controllers.push(...more);
    },
    async start() {
      await Promise.all(informers.map((i) => i.start()));
      await Promise.all(informers.map((i) => i.waitForSync(opts.syncTimeoutMs ?? 120_000)));
      log.info({ informers: informers.length, controllers: controllers.length }, 'caches synced');
      if (elector) elector.start();
      else startControllers();
    },
    isActive: () => active,
    stop() {
      stopping ??= (async () => {
        log.info('shutting down');
        // Queues stop taking keys at once; informers stop; in-flight reconciles finish (bounded).
        const drained = stopControllers();
        await Promise.all(informers.map((i) => i.stop()));
        await drained;
        // Last: no write can happen after the lease is released.
        await elector?.stop({ release: true });
        log.info('shut down');
        resolveDone('stopped');
      })();
      return stopping;
    },
  };
}
