/**
 * The one pino root logger. Controllers take a child per reconcile with
 * `{controller, namespace, name, reconcileId}`; nothing else writes to stdout.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/** Creates the root logger; level comes from config, destination is stdout (JSON lines). */
export function createLogger(level: string = 'info', name = 'paved'): Logger {
  return pino({ name, level, base: { name } });
}
