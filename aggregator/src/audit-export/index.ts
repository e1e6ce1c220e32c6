/**
 * Audit exports by format: the text, its Content-Type and the attachment's file name. The API
 * routes and the dashboard's export route answer with exactly this.
 */
import { type AuditExport, isoText } from './audit-export.js';
import { renderAuditCsv } from './csv.js';
import { renderAuditHtml } from './html.js';
import { renderAuditJson } from './json.js';
import { renderAuditMarkdown } from './markdown.js';

export type { AuditExport } from './audit-export.js';
export { auditDocument } from './json.js';
export { auditDocumentSchema } from './json-schema.js';

export const AUDIT_FORMATS = ['json', 'markdown', 'html', 'csv'] as const;
export type AuditFormat = (typeof AUDIT_FORMATS)[number];

const FORMATS: Record<AuditFormat, { contentType: string; extension: string; render(input: AuditExport): string }> = {
  json: { contentType: 'application/json; charset=utf-8', extension: 'json', render: renderAuditJson },
  markdown: { contentType: 'text/markdown; charset=utf-8', extension: 'md', render: renderAuditMarkdown },
  html: { contentType: 'text/html; charset=utf-8', extension: 'html', render: renderAuditHtml },
  csv: { contentType: 'text/csv; charset=utf-8; header=present', extension: 'csv', render: renderAuditCsv },
};

export interface RenderedAudit {
  body: string;
  contentType: string;
  /** `envparity-audit-<date>.<ext>`, the date the audit was made (UTC). */
  filename: string;
}

export function renderAudit(format: AuditFormat, input: AuditExport): RenderedAudit {
  const { contentType, extension, render } = FORMATS[format];
  const date = isoText(input.audit?.at ?? input.report.generatedAt).slice(0, 10);
  return { body: render(input), contentType, filename: `envparity-audit-${date}.${extension}` };
}

/** The answer of an export: the file as an attachment. */
export function auditAttachment(rendered: RenderedAudit): Response {
  return new Response(rendered.body, {
    status: 200,
    headers: {
      'Content-Type': rendered.contentType,
      'Content-Disposition': `attachment; filename="${rendered.filename}"`,
    },
  });
}
