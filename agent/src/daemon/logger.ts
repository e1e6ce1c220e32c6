import { LOG_LEVELS, type LogLevel, REDACTED_LOG_CENSOR, REDACTED_LOG_FIELDS } from '@envparity/shared';
import { type Logger, pino } from 'pino';

export { LOG_LEVELS, type LogLevel };

/**
 * JSON lines on stdout (or `destination`), ISO timestamps, and the fields of shared's
 * REDACTED_LOG_FIELDS redacted (the aggregator redacts the same list). The daemon itself never
 * logs tokens, secrets or fact values: the redaction is a safety net.
 */
export function createAgentLogger(level: LogLevel = 'info', destination?: { write(chunk: string): unknown }): Logger {
  const options = {
    level,
    base: { pid: process.pid, name: 'envparity-agent' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...REDACTED_LOG_FIELDS], censor: REDACTED_LOG_CENSOR },
  };
  return destination ? pino(options, destination) : pino(options);
}
