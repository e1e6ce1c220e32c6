/**
 * The audit's differences grouped by cause: one row per (path, from value, to value), naming every
 * pair that has it, so "production's openssl is 3.0.13 where dev and staging have 3.0.15" is one
 * row, not one per pair. Keyed like the drift engine's outlier causes (`causeKey`), so values
 * compare canonically (key order of a value never splits a cause).
 */
import { compareStrings } from '@envparity/shared';
import { causeKey } from '../drift/outlier-groups.js';
import { AUDIT_STATUSES, type AuditCause, type AuditPair, type AuditStatus } from './audit-report.js';

/** Lower is more pressing: drift, expired, expiring, justified, scale. */
export function auditStatusRank(status: AuditStatus): number {
  return AUDIT_STATUSES.indexOf(status);
}

export function groupAuditCauses(pairs: readonly AuditPair[]): AuditCause[] {
  const byKey = new Map<string, AuditCause>();
  const keys = new Map<AuditCause, string>();
  for (const pair of pairs) {
    for (const difference of pair.differences) {
      const key = causeKey({ path: difference.path, expected: difference.from, actual: difference.to });
      let cause = byKey.get(key);
      if (!cause) {
        cause = { path: difference.path, category: difference.category, status: difference.status, pairs: [] };
        if (difference.from !== undefined) cause.from = difference.from;
        if (difference.to !== undefined) cause.to = difference.to;
        byKey.set(key, cause);
        keys.set(cause, key);
      } else if (auditStatusRank(difference.status) < auditStatusRank(cause.status)) {
        cause.status = difference.status;
      }
      cause.pairs.push({ from: pair.from, to: pair.to, status: difference.status });
    }
  }
  return [...byKey.values()].sort(
    (a, b) =>
      auditStatusRank(a.status) - auditStatusRank(b.status) ||
      b.pairs.length - a.pairs.length ||
      compareStrings(a.path, b.path) ||
      compareStrings(keys.get(a) as string, keys.get(b) as string),
  );
}
