/**
 * The audit as CSV (RFC 4180): one row per difference of every pair, CRLF line ends, fields with a
 * comma, quote or line break quoted and their quotes doubled. For spreadsheets and scripts.
 */
import { type AuditExport, isoText, valueText } from './audit-export.js';

export const AUDIT_CSV_COLUMNS = [
  'pair_from',
  'pair_to',
  'pair_kind',
  'path',
  'category',
  'from',
  'to',
  'status',
  'action',
  'secret_policy',
  'exception_id',
  'exception_reason',
  'exception_owner',
  'exception_expires_at',
] as const;

/** One CSV field. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function renderAuditCsv({ report }: AuditExport): string {
  const lines = [AUDIT_CSV_COLUMNS.join(',')];
  for (const pair of report.pairs) {
    for (const difference of pair.differences) {
      const { exception } = difference;
      const fields = [
        pair.from,
        pair.to,
        pair.kind,
        difference.path,
        difference.category,
        valueText(difference.from),
        valueText(difference.to),
        difference.status,
        difference.action ?? '',
        difference.secretPolicy ?? '',
        exception?.id ?? '',
        exception?.reason ?? '',
        exception?.owner ?? '',
        exception?.expiresAt === undefined || exception.expiresAt === null ? '' : isoText(exception.expiresAt),
      ];
      lines.push(fields.map(csvField).join(','));
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}
