import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import pretty from 'pino-pretty';
import type { LOG_LEVELS } from '../../config/schema.ts';

// The node's logger: pino, one JSON object per line by default (what `itchain up`, log shippers and
// tests read), human-readable lines when the output is a terminal. The level comes from the config's
// `log.level`. Every component logs through a child with `component` set, so a line says who wrote it.

export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = 'json' | 'pretty';

export interface LoggerSettings {
  level: LogLevel;
  /** 'pretty' for people; default: pretty when stdout is a terminal, JSON otherwise. */
  format?: LogFormat;
  /** Fields on every line (e.g. the node ID). */
  base?: Record<string, unknown>;
  /** Where lines go; default stdout. */
  destination?: DestinationStream;
}

/** pino-pretty's options for a node's lines: time of day, no pid/hostname noise. */
export const PRETTY_OPTIONS = {
  colorize: true,
  translateTime: 'HH:MM:ss.l',
  ignore: 'pid,hostname',
  singleLine: true,
} as const;

export function defaultLogFormat(): LogFormat {
  return process.stdout.isTTY === true ? 'pretty' : 'json';
}

export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = { level: settings.level, base: settings.base ?? {} };
  const format = settings.format ?? defaultLogFormat();
  if (format === 'pretty') {
    // A synchronous stream in this process (no worker thread): lines are written before exit.
    const stream = pretty({ ...PRETTY_OPTIONS, sync: true, destination: settings.destination ?? 1 });
    return pino(options, stream);
  }
  return settings.destination ? pino(options, settings.destination) : pino(options);
}

/**
 * Turns one JSON log line of a node into a pretty line (for `itchain up`, which reads its nodes'
 * output); a line that is not JSON comes back unchanged.
 */
export function prettyLine(): (line: string) => string {
  const format = pretty.prettyFactory({ ...PRETTY_OPTIONS });
  return (line) => {
    if (!line.startsWith('{')) return line;
    try {
      return format(JSON.parse(line)).replace(/\n$/, '');
    } catch {
      return line;
    }
  };
}

export type { Logger };
