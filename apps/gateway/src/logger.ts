import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * The process logger: JSON lines with the node id on every line; pretty only for a person at a terminal.
 * Tokens and message bodies are never logged; the redact list is a second line of defence.
 */
export function createLogger(options: { level: string; pretty: boolean; nodeId: string }): Logger {
  return pino({
    level: options.level,
    base: { node: options.nodeId },
    redact: {
      paths: ['token', '*.token', 'auth', '*.auth', 'text', '*.text', 'password'],
      censor: '[redacted]',
    },
    ...(options.pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } }
      : {}),
  });
}
