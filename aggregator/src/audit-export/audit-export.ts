/**
 * What every audit export renders: a report, and for a recorded audit its identity and the
 * since-diff when asked. The helpers here are the one way a value, a time and a parity read in
 * every format, as compare renders them (strings as is, other values as JSON).
 */
import type { FactValue } from '@envparity/shared';
import type { AuditRecordRef, AuditReport, AuditSince } from '../queries/audit-report.js';

export interface AuditExport {
  report: AuditReport;
  /** Set for a recorded audit. */
  audit?: AuditRecordRef;
  since?: AuditSince;
}

/** A fact value as text: strings as is, other values as JSON, absent as ''. */
export function valueText(value: FactValue | undefined): string {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** ISO 8601 without milliseconds when they are zero. */
export function isoText(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** `94.1%`, rounded down (99.96% is not 100%). */
export function parityText(parity: number): string {
  return `${(Math.floor(parity * 1000) / 10).toFixed(1)}%`;
}

export function pairText(pair: { from: string; to: string }): string {
  return `${pair.from} → ${pair.to}`;
}

/** Security differences, listed apart in every format (they must be deliberate: issue 16 req 4). */
export const SECURITY_SECTION_NOTE =
  'Security differences must be deliberate: an exception covering one needs an owner and expires within 180 days.';

/** Every difference of a `security.*` path, with its pair, in pair order. */
export function securityDifferences(report: AuditExport['report']) {
  return report.pairs.flatMap((pair) =>
    pair.differences
      .filter((difference) => difference.category === 'security')
      .map((difference) => ({ pair, difference })),
  );
}

/** The title line of every format. */
export function auditTitle({ report, audit }: AuditExport): string {
  return audit === undefined
    ? `envparity parity audit, ${isoText(report.generatedAt)}`
    : `envparity parity audit #${audit.id}, ${isoText(audit.at)} by ${audit.author}`;
}
