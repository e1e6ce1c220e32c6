/**
 * Logs: pino JSON lines on stdout, `time` as an ISO 8601 UTC timestamp (`2026-01-31T12:00:00.000Z`:
 * readable, sortable, and the same form as every time in the API). Tokens, secrets and fact values
 * are never passed to the logger;
 * the redaction list is a second line of defense against a future mistake, not the mechanism.
 */
import { type LogLevel, REDACTED_LOG_CENSOR, REDACTED_LOG_FIELDS } from '@envparity/shared';
import pino, { type Logger } from 'pino';

/** The fields pino redacts: shared's REDACTED_LOG_FIELDS, the agent's list too (this name kept for callers). */
export const REDACTED_LOG_KEYS = REDACTED_LOG_FIELDS;

export function createLogger(
  level: LogLevel = 'info',
  destination: pino.DestinationStream = pino.destination(1),
): Logger {
  return pino(
    {
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACTED_LOG_KEYS], censor: REDACTED_LOG_CENSOR },
    },
    destination,
  );
}

/**
 * A logger for the few startup lines operators and scripts rely on (where the generated secrets are,
 * the URL listened on): printed at `info` whatever the configured level.
 */
export function announcer(logger: Logger): Logger {
  return logger.child({}, { level: 'info' });
}
