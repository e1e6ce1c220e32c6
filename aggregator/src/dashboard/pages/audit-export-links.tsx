/**
 * "Export: HTML · Markdown · JSON · CSV" for an audit, live or recorded: links to the page-side
 * export route, which signed-in browsers reach with their session cookie (the API's exports need
 * a bearer token). Used by the audit, compare and environment pages.
 */
import type { AuditFormat } from '../../audit-export/index.js';
import { type AuditExportParams, auditExportHref } from './audit-params.js';

const LABELS: readonly [AuditFormat, string][] = [
  ['html', 'HTML'],
  ['markdown', 'Markdown'],
  ['json', 'JSON'],
  ['csv', 'CSV'],
];

export const AuditExportLinks = ({
  params,
  label = 'Export the audit',
}: {
  params: Omit<AuditExportParams, 'format'>;
  label?: string;
}) => (
  <p class="export-links">
    {label}:{' '}
    {LABELS.map(([format, text], index) => (
      <>
        {index > 0 && ' · '}
        <a href={auditExportHref(params, format)} download="">
          {text}
        </a>
      </>
    ))}
  </p>
);
