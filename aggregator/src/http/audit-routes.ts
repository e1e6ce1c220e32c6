import { z } from 'zod';
import {
  AUDIT_FORMATS,
  type AuditExport,
  type AuditFormat,
  auditAttachment,
  auditDocument,
  auditDocumentSchema,
  renderAudit,
} from '../audit-export/index.js';
import { auditCountsSchema, auditPairSummarySchema, auditSummarySchema } from '../audit-export/json-schema.js';
import { AUDIT_SCHEMA } from '../queries/audit-report.js';
import type { ApiRouter } from './api-router.js';
import { environmentNameSchema, isoDateTime, limitQuery } from './api-schemas.js';
import { recordAdminAction } from './audit-log-routes.js';
import type { ReportRouteDeps } from './report-route-deps.js';
import type { FieldHints } from './validation-messages.js';

export const DEFAULT_AUDITS_LIMIT = 50;
export const MAX_AUDITS_LIMIT = 500;
export const MAX_AUDIT_NOTE_CHARS = 2000;

/** `dev,staging,production`: names as agents declare them, comma-separated. */
export const environmentListQuery = z
  .string()
  .transform((text) =>
    text
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== ''),
  )
  .refine(
    (names) => names.length > 0 && names.every((name) => environmentNameSchema.safeParse(name).success),
    'expected environment names (letters, digits, `_` and `-`), comma-separated, e.g. staging,production',
  );

export const auditFormatQuery = z
  .enum(AUDIT_FORMATS)
  .default('json')
  .meta({
    description:
      '`json` (default: the document `envparity/audit/v1`), `markdown` (for a PR or a ticket), `html` (one ' +
      'self-contained file) or `csv` (one row per difference, RFC 4180). Non-JSON formats are attachments ' +
      '(`Content-Disposition: attachment; filename="envparity-audit-<date>.<ext>"`).',
  });

const liveAuditQuery = z.strictObject({
  environments: environmentListQuery.optional().meta({
    description:
      'Environments to audit, comma-separated (at least two). Default: every known environment with reporting hosts.',
  }),
  pairsWith: environmentNameSchema
    .optional()
    .meta({ description: 'Only the pairs including this environment (and its outliers).' }),
  format: auditFormatQuery,
});

/** What `?format=` answers besides the JSON document (listed in the OpenAPI document). */
const AUDIT_ALTERNATE_CONTENT_TYPES = ['text/markdown', 'text/html', 'text/csv'] as const;

const recordAuditBody = z.strictObject({
  environments: z.array(environmentNameSchema).min(1).max(200).optional(),
  note: z.string().max(MAX_AUDIT_NOTE_CHARS).optional(),
});

const RECORD_HINTS: FieldHints = {
  environments: 'name at least two environments, e.g. ["staging", "production"], or leave it out for all',
  note: `say what the audit is for (at most ${MAX_AUDIT_NOTE_CHARS} characters), or leave it out`,
};

export const recordedAuditSchema = z.object({
  id: z.number().int(),
  at: isoDateTime,
  author: z.string().meta({ description: 'Name of the API token (or session) that recorded it.' }),
  environments: z.array(z.string()),
  note: z.string().optional(),
  summary: auditSummarySchema,
});

export const recordedAuditListItemSchema = z.object({
  id: z.number().int(),
  at: isoDateTime,
  author: z.string(),
  environments: z.array(z.string()),
  note: z.string().optional(),
  counts: auditCountsSchema,
  open: z.number().int(),
  pairs: z.array(auditPairSummarySchema),
});

export const recordedAuditsResponseSchema = z.object({
  audits: z.array(recordedAuditListItemSchema),
  truncated: z.boolean().meta({ description: 'More (older) audits exist: ask again with `before` = the last `id`.' }),
});

const auditIdParam = z.coerce.number().int().min(1).meta({ description: 'A recorded audit’s id.' });

/** JSON: the document (the router sends it); other formats: the attachment. */
function answer(format: AuditFormat, input: AuditExport) {
  return format === 'json' ? auditDocument(input) : auditAttachment(renderAudit(format, input));
}

export function registerAuditRoutes(router: ApiRouter, { audits, store }: ReportRouteDeps): void {
  router.add(
    {
      method: 'get',
      path: '/api/v1/audit',
      operationId: 'getAudit',
      summary: 'Live parity audit: every pair of environments, every difference classified',
      description:
        'Pairs: the neighbours in the promotion order among the audited environments first (`kind: "promotion"`, ' +
        'upstream as `from`), then every other pair. Each pair is `GET /api/v1/compare` of the two baselines, ' +
        `its differences classified ${'`drift` `justified` `expiring` `expired` `scale`'} with the action to take. ` +
        '`summary` has per-pair and overall counts, the differences grouped by cause (one row for a difference ' +
        'several pairs share) and each environment’s outlier hosts grouped by shared difference. 404 names unknown ' +
        `environments; fewer than two is a 400. JSON schema \`${AUDIT_SCHEMA}\`.`,
      tag: 'audits',
      auth: 'read',
      query: liveAuditQuery,
      response: auditDocumentSchema,
      alternateContentTypes: AUDIT_ALTERNATE_CONTENT_TYPES,
      notFound: true,
    },
    async ({ query }) => {
      const report = await audits.live({
        ...(query.environments !== undefined ? { environments: query.environments } : {}),
        ...(query.pairsWith !== undefined ? { pairsWith: query.pairsWith } : {}),
      });
      return answer(query.format, { report });
    },
  );

  router.add(
    {
      method: 'post',
      path: '/api/v1/audits',
      operationId: 'recordAudit',
      summary: 'Record the live audit (a snapshot with id, time and author)',
      description:
        'Optional JSON body `{"environments": ["staging", "production"], "note": "monthly audit"}` (no body: every ' +
        'environment with reporting hosts). The report is stored whole, so it stays what it was whatever changes ' +
        'later; `GET /api/v1/audits/:id?since=OTHER` says what is new, remediated and justified since another. ' +
        'Recorded in the audit log as `audit.recorded`.',
      tag: 'audits',
      auth: 'admin',
      status: 201,
      body: recordAuditBody,
      optionalBody: true,
      hints: RECORD_HINTS,
      response: recordedAuditSchema,
      notFound: true,
    },
    async ({ body, c }) => {
      const { audit, report } = await audits.record({
        ...(body.environments !== undefined ? { environments: body.environments } : {}),
        ...(body.note !== undefined ? { note: body.note } : {}),
        author: c.get('principal').name,
      });
      await recordAdminAction(
        store,
        c,
        'audit.recorded',
        { id: audit.id, environments: report.environments, open: report.summary.open },
        audit.at,
      );
      return {
        id: audit.id,
        at: new Date(audit.at).toISOString(),
        author: audit.author,
        environments: report.environments,
        ...(report.note !== undefined ? { note: report.note } : {}),
        summary: auditDocument({ report }).summary,
      };
    },
  );

  router.add(
    {
      method: 'get',
      path: '/api/v1/audits',
      operationId: 'listAudits',
      summary: 'Recorded audits, newest first',
      tag: 'audits',
      auth: 'read',
      query: z.strictObject({
        limit: limitQuery(MAX_AUDITS_LIMIT, DEFAULT_AUDITS_LIMIT),
        before: z.coerce.number().int().min(1).optional().meta({ description: 'Only audits with a smaller `id`.' }),
      }),
      response: recordedAuditsResponseSchema,
    },
    async ({ query }) => {
      const page = await audits.list({
        limit: query.limit,
        ...(query.before !== undefined ? { before: query.before } : {}),
      });
      return {
        audits: page.items.map(({ at, ...item }) => ({ ...item, at: new Date(at).toISOString() })),
        truncated: page.truncated,
      };
    },
  );

  router.add(
    {
      method: 'get',
      path: '/api/v1/audits/:id',
      operationId: 'getRecordedAudit',
      summary: 'A recorded audit; with `since`, what changed since an earlier one',
      description:
        '`since=OTHER_ID` adds `since`: per (pair, path), `new` (open now, not then), `remediated` (open then, ' +
        'gone now), `newlyJustified` (open then, justified or expiring now) and `stillOpen`; open = drift or ' +
        'expired. Same formats as `GET /api/v1/audit`.',
      tag: 'audits',
      auth: 'read',
      params: z.strictObject({ id: auditIdParam }),
      query: z.strictObject({
        since: auditIdParam.optional().meta({ description: 'An earlier recorded audit’s id.' }),
        format: auditFormatQuery,
      }),
      response: auditDocumentSchema,
      alternateContentTypes: AUDIT_ALTERNATE_CONTENT_TYPES,
      notFound: true,
    },
    async ({ params, query }) => {
      const recorded = await audits.recorded(params.id, query.since === undefined ? {} : { since: query.since });
      return answer(query.format, recorded);
    },
  );
}
