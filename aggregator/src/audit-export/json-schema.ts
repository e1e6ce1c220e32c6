/**
 * The exported JSON document, `envparity/audit/v1`: the zod schema the routes declare (so the
 * OpenAPI document describes it) and the tests parse every answer with. Adding optional fields
 * keeps v1; renaming or removing one is v2.
 */
import { factValueSchema } from '@envparity/shared';
import { z } from 'zod';
import { AUDIT_SCHEMA, AUDIT_STATUSES } from '../queries/audit-report.js';

const iso = z.iso.datetime().meta({ description: 'ISO 8601 time (UTC).' });
const value = factValueSchema.meta({ description: 'A fact value; secrets appear only as their keyed hashes.' });

export const auditStatusSchema = z.enum(AUDIT_STATUSES).meta({
  description:
    '`drift` (remediate or justify), `justified` (an active exception), `expiring` (its exception expires within ' +
    '7 days), `expired` (an exception matching it has expired: the difference is back), `scale` (sizes, counts).',
});

export const auditCountsSchema = z.object({
  drift: z.number().int(),
  expired: z.number().int(),
  expiring: z.number().int(),
  justified: z.number().int(),
  scale: z.number().int(),
});

export const auditExceptionSchema = z.object({
  id: z.string(),
  path: z.string().meta({ description: 'Path glob.' }),
  environments: z.array(z.string()),
  reason: z.string(),
  impact: z.string().optional(),
  owner: z.string().optional(),
  expiresAt: iso.nullable(),
});

export const auditDifferenceSchema = z.object({
  path: z.string(),
  category: z.string(),
  from: value.optional().meta({ description: 'Absent when only `to` has the path.' }),
  to: value.optional().meta({ description: 'Absent when only `from` has the path.' }),
  status: auditStatusSchema,
  action: z
    .string()
    .nullable()
    .meta({ description: '`remediate or justify` (drift, expired), `renew` (expiring), null otherwise.' }),
  exception: auditExceptionSchema
    .optional()
    .meta({ description: 'The exception that justifies it (justified, expiring) or did (expired).' }),
  secretPolicy: z
    .enum(['differ', 'equal'])
    .optional()
    .meta({ description: 'A secret breaking the config `secretPolicy` (counted as drift): what was expected.' }),
  tie: z.literal(true).optional().meta({ description: 'Tied in one side’s baseline, so absent from it.' }),
});

const pairKind = z.enum(['promotion', 'other']).meta({
  description: '`promotion`: neighbours in the promotion order among the audited environments; `other`: the rest.',
});

export const auditPairSummarySchema = z.object({
  from: z.string(),
  to: z.string(),
  kind: pairKind,
  parity: z.number().meta({ description: 'Share of compared behavior paths equal or justified (as compare).' }),
  compared: z.number().int(),
  counts: auditCountsSchema,
});

export const auditPairSchema = auditPairSummarySchema.extend({ differences: z.array(auditDifferenceSchema) });

export const auditCauseSchema = z.object({
  path: z.string(),
  category: z.string(),
  from: value.optional(),
  to: value.optional(),
  status: auditStatusSchema.meta({ description: 'The most pressing status among its pairs.' }),
  pairs: z.array(z.object({ from: z.string(), to: z.string(), status: auditStatusSchema })),
});

export const auditOutlierCauseSchema = z.object({
  path: z.string(),
  category: z.string(),
  expected: value.optional().meta({ description: 'The baseline value; absent when the baseline lacks the path.' }),
  actual: value.optional().meta({ description: 'The hosts’ value; absent when they lack the path.' }),
  status: auditStatusSchema,
  action: z.string().nullable(),
  exception: auditExceptionSchema.optional(),
  hostCount: z.number().int(),
  hosts: z.array(z.string()).meta({ description: 'The first hosts by id.' }),
});

export const auditEnvironmentOutliersSchema = z.object({
  environment: z.string(),
  hosts: z.number().int(),
  outlierHosts: z.number().int(),
  groups: z.array(auditOutlierCauseSchema),
  totalGroups: z.number().int(),
});

export const auditSummarySchema = z.object({
  counts: auditCountsSchema,
  open: z.number().int().meta({ description: 'drift + expired: differences that need action.' }),
  pairs: z.array(auditPairSummarySchema),
  causes: z
    .array(auditCauseSchema)
    .meta({ description: 'Differences grouped by (path, from value, to value), naming every pair that has it.' }),
  outliers: z
    .array(auditEnvironmentOutliersSchema)
    .meta({ description: 'Per environment, hosts off its baseline grouped by the difference they share.' }),
});

export const auditRecordRefSchema = z.object({ id: z.number().int(), at: iso, author: z.string() });

const stateSchema = z.object({
  status: auditStatusSchema,
  from: value.optional(),
  to: value.optional(),
  exception: auditExceptionSchema.optional(),
});

export const auditChangeSchema = z.object({
  from: z.string(),
  to: z.string(),
  path: z.string(),
  category: z.string(),
  earlier: stateSchema.optional().meta({ description: 'Absent: no difference in the earlier audit.' }),
  later: stateSchema.optional().meta({ description: 'Absent: no difference in this audit.' }),
});

export const auditSinceSchema = z.object({
  audit: z.number().int().meta({ description: 'The earlier audit.' }),
  counts: z.object({
    new: z.number().int(),
    remediated: z.number().int(),
    newlyJustified: z.number().int(),
    stillOpen: z.number().int(),
  }),
  new: z.array(auditChangeSchema).meta({ description: 'Open (drift, expired) now, not then.' }),
  remediated: z.array(auditChangeSchema).meta({ description: 'Open then; now gone (or needing nothing).' }),
  newlyJustified: z.array(auditChangeSchema).meta({ description: 'Open then, justified or expiring now.' }),
  stillOpen: z.array(auditChangeSchema).meta({ description: 'Open in both.' }),
  notCompared: z
    .array(z.object({ from: z.string(), to: z.string(), in: z.enum(['earlier', 'later']) }))
    .meta({ description: 'Pairs only one of the two audits compared: not diffed.' }),
});

export const auditDocumentSchema = z
  .object({
    schema: z.literal(AUDIT_SCHEMA),
    generatedAt: iso,
    audit: auditRecordRefSchema.optional().meta({ description: 'Set for a recorded audit.' }),
    note: z.string().optional(),
    environments: z.array(z.string()).meta({ description: 'Audited environments, promotion order first.' }),
    promotion: z.array(z.string()),
    withoutHosts: z
      .array(z.string())
      .meta({ description: 'Known environments a default audit left out: no host has reported facts.' }),
    pairsWith: z.string().optional().meta({ description: 'Only pairs including this environment were audited.' }),
    summary: auditSummarySchema,
    pairs: z.array(auditPairSchema),
    since: auditSinceSchema.optional().meta({ description: 'With `?since=ID`: what changed since that audit.' }),
  })
  .meta({ description: `A parity audit, schema \`${AUDIT_SCHEMA}\`.` });

export type AuditDocument = z.input<typeof auditDocumentSchema>;
