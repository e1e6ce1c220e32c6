/**
 * The audit page's state, all in the URL: which environments (`environments`, comma-separated, as
 * the API takes them), a recorded audit (`id`) and the one to diff it with (`since`), and the row
 * filter `status`. The export route takes the same plus `format` and `pairsWith`.
 */
import { z } from 'zod';
import { AUDIT_FORMATS, type AuditFormat } from '../../audit-export/index.js';
import { environmentNameSchema } from '../../http/api-schemas.js';
import { environmentListQuery } from '../../http/audit-routes.js';
import { parseQuery } from '../../http/parse-query.js';
import type { AuditStatus } from '../../queries/audit-report.js';
import { AUDIT_STATUSES } from '../../queries/audit-report.js';
import { href } from '../format.js';
import { presentValues } from './compare-params.js';

/** `open`: drift and expired, what needs someone to act. */
export const AUDIT_STATUS_FILTERS = ['all', 'open', ...AUDIT_STATUSES] as const;
export type AuditStatusFilter = (typeof AUDIT_STATUS_FILTERS)[number];

const auditId = z.coerce.number().int().min(1);

const pageQuery = z.strictObject({
  environments: environmentListQuery.optional(),
  id: auditId.optional(),
  since: auditId.optional(),
  status: z.enum(AUDIT_STATUS_FILTERS).default('all'),
});

const exportQuery = z.strictObject({
  environments: environmentListQuery.optional(),
  pairsWith: environmentNameSchema.optional(),
  id: auditId.optional(),
  since: auditId.optional(),
  format: z.enum(AUDIT_FORMATS).default('html'),
});

export interface AuditPageParams {
  environments?: string[];
  id?: number;
  since?: number;
  status: AuditStatusFilter;
}

export interface AuditExportParams {
  environments?: string[];
  pairsWith?: string;
  id?: number;
  since?: number;
  format: AuditFormat;
}

/** InvalidRequestError naming the parameter when one is bad. */
export function parseAuditPageParams(query: Record<string, string>): AuditPageParams {
  const parsed = parseQuery(pageQuery, presentValues(query));
  return withoutUndefined(parsed);
}

export function parseAuditExportParams(query: Record<string, string>): AuditExportParams {
  return withoutUndefined(parseQuery(exportQuery, presentValues(query)));
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export function keepsStatus(status: AuditStatus, filter: AuditStatusFilter): boolean {
  if (filter === 'all') return true;
  if (filter === 'open') return status === 'drift' || status === 'expired';
  return status === filter;
}

export function auditPageHref(params: AuditPageParams, changes: Partial<AuditPageParams> = {}): string {
  const next = { ...params, ...changes };
  return href('/audit', {
    environments: next.environments?.join(','),
    id: next.id,
    since: next.since,
    status: next.status === 'all' ? undefined : next.status,
  });
}

export function auditExportHref(params: Omit<AuditExportParams, 'format'>, format: AuditFormat): string {
  return href('/audit/export', {
    format,
    environments: params.environments?.join(','),
    pairsWith: params.pairsWith,
    id: params.id,
    since: params.since,
  });
}
