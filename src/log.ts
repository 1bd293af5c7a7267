/**
 * The one pino root logger. Controllers take a child per reconcile with
 * `{controller, namespace, name, reconcileId}`; nothing else writes to stdout.
 * JSON lines by default (what log pipelines want); `pretty` for a person at a terminal.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

/** Creates the root logger; level and format come from config, destination is stdout. */
export function createLogger(level: string = 'info', format: LogFormat = 'json', name = 'paved'): Logger {
  if (format === 'pretty') {
    return pino({ name, level, base: { name } }, pino.transport({
      target: 'pino-pretty',
      options: { colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname,name' },
    }));
  }
  return pino({ name, level, base: { name } });
}
