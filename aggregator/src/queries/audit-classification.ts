/**
 * The audit's five statuses from a comparison's three: a `justified` difference whose exception
 * expires within 7 days is `expiring`; a `drift` (or `secret-policy`) difference that an expired
 * exception would still match is `expired` (the justification lapsed and the difference is back).
 * "Would match" is the shared exception matcher itself (same globs, same environment rules), run
 * over the expired rules as if they were in force, so the audit can never disagree with compare.
 */
import { type ComparedDifference, categoryOf, createExceptionMatcher, type ExceptionRule } from '@envparity/shared';
import { isExceptionExpired, toExceptionRule } from '../drift/exception-rules.js';
import type { ExceptionRecord } from '../store/fact-store.js';
import {
  AUDIT_ACTIONS,
  type AuditDifference,
  type AuditException,
  type AuditOutlierCause,
  type AuditStatus,
  EXPIRING_WITHIN_MS,
} from './audit-report.js';
import type { OutlierCauseGroup } from './fleet-queries.js';

export interface AuditJudge {
  /** A difference between two environments (`compareFacts`' judgement), in audit terms. */
  pair(difference: ComparedDifference, fromEnvironment: string, toEnvironment: string): AuditDifference;
  /** An outlier group inside one environment, in audit terms. */
  outlier(group: OutlierCauseGroup, environment: string): AuditOutlierCause;
}

export function auditException(record: ExceptionRecord): AuditException {
  const exception: AuditException = {
    id: record.id,
    path: record.path,
    environments: [...record.environments],
    reason: record.reason,
    expiresAt: record.expiresAt,
  };
  if (record.impact !== undefined) exception.impact = record.impact;
  if (record.owner !== undefined) exception.owner = record.owner;
  return exception;
}

/** Judges with the exceptions as they are at `now` (every record, expired ones included). */
export function createAuditJudge(records: readonly ExceptionRecord[], now: number): AuditJudge {
  const byId = new Map(records.map((record) => [record.id, record]));
  // The most recently expired first: the matcher answers the first rule that matches.
  const expired = records
    .filter((record) => isExceptionExpired(record, now))
    .sort((a, b) => (b.expiresAt ?? 0) - (a.expiresAt ?? 0));
  const lapsedRules: ExceptionRule[] = expired.map((record) => ({ ...toExceptionRule(record), expiresAt: null }));
  const matchers = new Map<string, (path: string) => ExceptionRule | undefined>();
  const lapsedFor = (fromEnvironment: string, toEnvironment: string, path: string) => {
    const key = `${fromEnvironment}\u0000${toEnvironment}`;
    let match = matchers.get(key);
    if (!match) {
      match = createExceptionMatcher(lapsedRules, fromEnvironment, toEnvironment, new Date(now));
      matchers.set(key, match);
    }
    const rule = match(path);
    return rule ? byId.get(rule.id) : undefined;
  };

  /** Status, action and exception of one judged difference. */
  const judge = (
    status: ComparedDifference['status'],
    exceptionRef: { id: string; reason: string } | undefined,
    path: string,
    fromEnvironment: string,
    toEnvironment: string,
  ): { status: AuditStatus; action: string | null; exception?: AuditException } => {
    if (status === 'scale') return { status, action: AUDIT_ACTIONS.scale };
    if (status === 'justified') {
      const record = exceptionRef ? byId.get(exceptionRef.id) : undefined;
      if (!record) {
        // Deleted between the comparison and this read: keep what the comparison said.
        const exception: AuditException | undefined = exceptionRef
          ? { id: exceptionRef.id, path, environments: [], reason: exceptionRef.reason, expiresAt: null }
          : undefined;
        return { status, action: AUDIT_ACTIONS.justified, ...(exception ? { exception } : {}) };
      }
      const audited: AuditStatus =
        record.expiresAt !== null && record.expiresAt - now <= EXPIRING_WITHIN_MS ? 'expiring' : 'justified';
      return { status: audited, action: AUDIT_ACTIONS[audited], exception: auditException(record) };
    }
    // drift, or a secret breaking its policy (counted as drift).
    const lapsed = lapsedFor(fromEnvironment, toEnvironment, path);
    if (lapsed) return { status: 'expired', action: AUDIT_ACTIONS.expired, exception: auditException(lapsed) };
    return { status: 'drift', action: AUDIT_ACTIONS.drift };
  };

  return {
    pair(difference, fromEnvironment, toEnvironment) {
      const judged = judge(difference.status, difference.exception, difference.path, fromEnvironment, toEnvironment);
      const { path, category } = difference;
      const out: AuditDifference = { path, category, status: judged.status, action: judged.action };
      if (difference.from !== undefined) out.from = difference.from;
      if (difference.to !== undefined) out.to = difference.to;
      if (judged.exception) out.exception = judged.exception;
      if (difference.secretPolicy !== undefined) out.secretPolicy = difference.secretPolicy;
      return out;
    },
    outlier(group, environment) {
      const judged = judge(group.status, group.exception, group.path, environment, environment);
      const out: AuditOutlierCause = {
        path: group.path,
        category: categoryOf(group.path),
        status: judged.status,
        action: judged.action,
        hostCount: group.hostCount,
        hosts: [...group.hosts],
      };
      if (group.expected !== undefined) out.expected = group.expected;
      if (group.actual !== undefined) out.actual = group.actual;
      if (judged.exception) out.exception = judged.exception;
      return out;
    },
  };
}
