/**
 * The audit as the JSON document `envparity/audit/v1` (json-schema.ts): the domain report with
 * its times as ISO strings, tagged with the schema and the time it was generated.
 */
import type {
  AuditChange,
  AuditDifferenceState,
  AuditException,
  AuditOutlierCause,
  AuditSince,
} from '../queries/audit-report.js';
import { AUDIT_SCHEMA } from '../queries/audit-report.js';
import type { AuditExport } from './audit-export.js';
import type { AuditDocument } from './json-schema.js';

type ExceptionJson = Omit<AuditException, 'expiresAt'> & { expiresAt: string | null };

function exceptionJson(exception: AuditException): ExceptionJson {
  return { ...exception, expiresAt: exception.expiresAt === null ? null : new Date(exception.expiresAt).toISOString() };
}

function withException<T extends { exception?: AuditException }>(
  item: T,
): Omit<T, 'exception'> & { exception?: ExceptionJson } {
  const { exception, ...rest } = item;
  return exception ? { ...rest, exception: exceptionJson(exception) } : rest;
}

type ChangeJson = NonNullable<AuditDocument['since']>['new'][number];

function changeJson(change: AuditChange): ChangeJson {
  const { earlier, later, ...rest } = change;
  const state = (value: AuditDifferenceState) => withException(value);
  return {
    ...rest,
    ...(earlier ? { earlier: state(earlier) } : {}),
    ...(later ? { later: state(later) } : {}),
  };
}

function sinceJson(since: AuditSince): NonNullable<AuditDocument['since']> {
  return {
    audit: since.audit,
    counts: since.counts,
    new: since.new.map(changeJson),
    remediated: since.remediated.map(changeJson),
    newlyJustified: since.newlyJustified.map(changeJson),
    stillOpen: since.stillOpen.map(changeJson),
    notCompared: since.notCompared,
  };
}

export function auditDocument({ report, audit, since }: AuditExport): AuditDocument {
  const document: AuditDocument = {
    schema: AUDIT_SCHEMA,
    generatedAt: new Date(report.generatedAt).toISOString(),
    ...(audit ? { audit: { ...audit, at: new Date(audit.at).toISOString() } } : {}),
    ...(report.note !== undefined ? { note: report.note } : {}),
    environments: report.environments,
    promotion: report.promotion,
    withoutHosts: report.withoutHosts,
    ...(report.pairsWith !== undefined ? { pairsWith: report.pairsWith } : {}),
    summary: {
      ...report.summary,
      outliers: report.summary.outliers.map((environment) => ({
        ...environment,
        groups: environment.groups.map((group: AuditOutlierCause) => withException(group)),
      })),
    },
    pairs: report.pairs.map((pair) => ({ ...pair, differences: pair.differences.map(withException) })),
  };
  if (since) document.since = sinceJson(since);
  return document;
}

export function renderAuditJson(input: AuditExport): string {
  return `${JSON.stringify(auditDocument(input), null, 2)}\n`;
}
