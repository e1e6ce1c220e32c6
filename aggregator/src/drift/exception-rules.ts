/**
 * Stored exceptions as the shared `ExceptionRule` that `compareFacts` (and the agent's `verify`)
 * understand: the same rule list judges the API's compare, outliers, drift events and `verify`.
 */
import { type ExceptionRule, isExceptionActive } from '@envparity/shared';
import type { ExceptionRecord } from '../store/fact-store.js';

/** The shared rule form: expiry as an ISO string (or null). */
export function toExceptionRule(record: ExceptionRecord): ExceptionRule {
  const rule: ExceptionRule = {
    id: record.id,
    path: record.path,
    environments: [...record.environments],
    reason: record.reason,
    expiresAt: record.expiresAt === null ? null : new Date(record.expiresAt).toISOString(),
  };
  if (record.impact !== undefined) rule.impact = record.impact;
  if (record.owner !== undefined) rule.owner = record.owner;
  return rule;
}

/** True when the exception's expiry has passed at `now`. */
export function isExceptionExpired(record: Pick<ExceptionRecord, 'expiresAt'>, now: number): boolean {
  return !isExceptionActive(
    { expiresAt: record.expiresAt === null ? null : new Date(record.expiresAt).toISOString() },
    new Date(now),
  );
}
