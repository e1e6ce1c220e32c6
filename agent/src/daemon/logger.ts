import { type Logger, pino } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Fields that must never reach a log line even if a bug passes them: pino replaces them. The
 * daemon itself never logs tokens, secrets or fact values.
 */
export const REDACTED_FIELDS = [
  'token',
  'enrollSecret',
  'fleetKey',
  'secret',
  '*.token',
  '*.enrollSecret',
  '*.fleetKey',
  '*.secret',
];

/** JSON lines on stdout (or `destination`), ISO timestamps, secrets redacted. */
export function createAgentLogger(level: LogLevel = 'info', destination?: { write(chunk: string): unknown }): Logger {
  const options = {
    level,
    base: { pid: process.pid, name: 'envparity-agent' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_FIELDS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
