/**
 * What changed between two audits, per (pair, path): `new` (open now, not open then), `remediated`
 * (open then; now no difference, or one that needs nothing), `newlyJustified` (open then, justified
 * or expiring now) and `stillOpen` (open in both). Open = drift or expired. Only pairs both audits
 * compared are diffed; the others are listed in `notCompared`, never counted as remediated.
 */
import { compareStrings } from '@envparity/shared';
import {
  type AuditChange,
  type AuditDifference,
  type AuditDifferenceState,
  type AuditReport,
  type AuditSince,
  OPEN_AUDIT_STATUSES,
} from './audit-report.js';

const pairKey = (from: string, to: string) => `${from}\u0000${to}`;

function stateOf(difference: AuditDifference): AuditDifferenceState {
  const state: AuditDifferenceState = { status: difference.status };
  if (difference.from !== undefined) state.from = difference.from;
  if (difference.to !== undefined) state.to = difference.to;
  if (difference.exception) state.exception = difference.exception;
  return state;
}

export function auditSince(earlier: AuditReport, later: AuditReport, earlierId: number): AuditSince {
  const earlierPairs = new Map(earlier.pairs.map((pair) => [pairKey(pair.from, pair.to), pair]));
  const laterPairs = new Map(later.pairs.map((pair) => [pairKey(pair.from, pair.to), pair]));
  const since: AuditSince = {
    audit: earlierId,
    new: [],
    remediated: [],
    newlyJustified: [],
    stillOpen: [],
    counts: { new: 0, remediated: 0, newlyJustified: 0, stillOpen: 0 },
    notCompared: [],
  };
  for (const pair of earlier.pairs) {
    if (!laterPairs.has(pairKey(pair.from, pair.to)))
      since.notCompared.push({ from: pair.from, to: pair.to, in: 'earlier' });
  }
  for (const pair of later.pairs) {
    const before = earlierPairs.get(pairKey(pair.from, pair.to));
    if (!before) {
      since.notCompared.push({ from: pair.from, to: pair.to, in: 'later' });
      continue;
    }
    const then = new Map(before.differences.map((difference) => [difference.path, difference]));
    const now = new Map(pair.differences.map((difference) => [difference.path, difference]));
    const paths = [...new Set([...then.keys(), ...now.keys()])].sort(compareStrings);
    for (const path of paths) {
      const a = then.get(path);
      const b = now.get(path);
      const openThen = a !== undefined && OPEN_AUDIT_STATUSES.has(a.status);
      const openNow = b !== undefined && OPEN_AUDIT_STATUSES.has(b.status);
      if (!openThen && !openNow) continue;
      const change: AuditChange = {
        from: pair.from,
        to: pair.to,
        path,
        category: (b ?? a)?.category as string,
      };
      if (a) change.earlier = stateOf(a);
      if (b) change.later = stateOf(b);
      if (openNow) (openThen ? since.stillOpen : since.new).push(change);
      else if (b !== undefined && (b.status === 'justified' || b.status === 'expiring'))
        since.newlyJustified.push(change);
      else since.remediated.push(change);
    }
  }
  since.counts = {
    new: since.new.length,
    remediated: since.remediated.length,
    newlyJustified: since.newlyJustified.length,
    stillOpen: since.stillOpen.length,
  };
  return since;
}
