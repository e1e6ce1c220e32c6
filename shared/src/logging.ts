/**
 * Logging settings both sides share: one list of levels (config schemas, `--log-level` choices,
 * the logger factories) and one redaction list. Constants only: each side builds its own pino
 * logger, so shared keeps no logging dependency.
 */

/** pino's levels, quietest last. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Log fields pino replaces with REDACTED_LOG_CENSOR, at the top level and one level down. Tokens,
 * secrets and fact values are never passed to a logger on purpose; this list is the safety net
 * against a future mistake, the same on the agent and the aggregator.
 */
export const REDACTED_LOG_FIELDS = [
  'token',
  'enrollSecret',
  'fleetKey',
  'adminToken',
  'secret',
  'authorization',
  'facts',
  'value',
  '*.token',
  '*.enrollSecret',
  '*.fleetKey',
  '*.secret',
  '*.authorization',
  '*.facts',
  '*.value',
] as const;

/** What a redacted field reads as. */
export const REDACTED_LOG_CENSOR = '[redacted]';
