/**
 * The zod schemas of the HTTP API: request validation and the response shapes the OpenAPI
 * document is generated from. Route handlers are typed against the response schemas, and the route
 * tests parse every answer with them, so the document cannot drift from what the API sends.
 */
import {
  classRuleSchema,
  DIFFERENCE_STATUSES,
  factValueSchema,
  isValidPath,
  PROTOCOL_CATEGORIES,
  environmentNameSchema as sharedEnvironmentName,
} from '@envparity/shared';
import { z } from 'zod';
import { DRIFT_RESOLUTIONS } from '../drift/events.js';
import { HOST_PRESENCES } from '../drift/presence-tracker.js';
import { API_TOKEN_SCOPES, DRIFT_STATUSES, STORED_DRIFT_KINDS } from '../store/fact-store.js';

// --- building blocks ---------------------------------------------------------------------------

/** Environment names as agents and the config declare them. */
export const environmentNameSchema = sharedEnvironmentName.meta({
  description: 'Environment name: letters, digits, `_` and `-`.',
});

export const factPathSchema = z
  .string()
  .refine(isValidPath, 'not a valid fact path')
  .meta({ description: 'A fact path, e.g. `library.dpkg.openssl` or `config.sysctl["net.core.somaxconn"]`.' });

export const factValue = factValueSchema.meta({
  description: 'A scalar or a short array of scalars. Secret values appear only as keyed hashes.',
});
export const factMap = z.record(z.string(), factValue).meta({ description: 'Flat map of fact path -> value.' });

export const isoDateTime = z.iso.datetime().meta({ description: 'ISO 8601 time (UTC).' });

/** A query-string ISO time, turned into ms since the epoch. */
export const isoTimeQuery = z
  .string()
  .refine((s) => /^\d{4}-\d{2}-\d{2}(T|$)/.test(s) && !Number.isNaN(Date.parse(s)), 'expected an ISO 8601 date or time')
  .transform((s) => Date.parse(s));

/** `true` / `false` in a query string (anything else is a 400, not a silent false). */
export const booleanQuery = z.enum(['true', 'false']).transform((s) => s === 'true');

export const limitQuery = (max: number, fallback: number) =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(max)
    .default(fallback)
    .meta({ description: `1-${max}, default ${fallback}.` });

export const categoryListQuery = z
  .string()
  .transform((s) => s.split(',').map((c) => c.trim()))
  .refine(
    (list) => list.every((c) => PROTOCOL_CATEGORIES.includes(c)),
    `expected categories among ${PROTOCOL_CATEGORIES.join(', ')}, comma-separated`,
  );

export const errorBodySchema = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .meta({ description: 'Every error: a stable code and a message naming the problem.' });

export const exceptionRefSchema = z.object({ id: z.string(), reason: z.string() });

export const differenceStatusSchema = z.enum(DIFFERENCE_STATUSES);

// --- hosts ---------------------------------------------------------------------------------------

export const hostSummarySchema = z.object({
  id: z.string(),
  environment: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
  online: z.boolean(),
  lastSeen: isoDateTime.nullable(),
  fingerprint: z.string().nullable(),
  presence: z
    .enum(HOST_PRESENCES)
    .optional()
    .meta({
      description:
        '`online`; `offline` (within `presence.graceSeconds`: still counted in the baseline with its last facts); ' +
        '`lost` (past the grace: out of the baseline); `retired`.',
    }),
});

export const hostsResponseSchema = z.object({ hosts: z.array(hostSummarySchema) });

export const hostDetailSchema = hostSummarySchema.extend({
  agentVersion: z.string().nullable(),
  enrolledAt: isoDateTime.nullable(),
  fingerprints: z.record(z.string(), z.string()),
  lastSeq: z.number().int(),
  meta: z.unknown(),
  facts: factMap,
  retiredAt: isoDateTime
    .nullable()
    .optional()
    .meta({ description: 'When the host was retired (`DELETE /api/v1/hosts/:id`); null while it is current.' }),
  retiredBy: z.string().optional().meta({ description: 'Who retired it (the API token’s name).' }),
});

export const changeSchema = z.object({
  at: isoDateTime,
  seq: z.number().int(),
  path: z.string(),
  from: factValue.optional().meta({ description: 'Absent when the path was added.' }),
  to: factValue.optional().meta({ description: 'Absent when the path was removed.' }),
  emergency: z
    .literal(true)
    .optional()
    .meta({ description: 'The change reached this environment before its upstream ever had the value.' }),
});

export const changesResponseSchema = z.object({ changes: z.array(changeSchema), truncated: z.boolean() });

// --- environments ------------------------------------------------------------------------------

export const environmentSummarySchema = z.object({
  name: z.string(),
  hosts: z.number().int().meta({ description: 'Hosts declaring the environment.' }),
  online: z.number().int().meta({ description: 'Of those, hosts with a live agent connection.' }),
  fingerprint: z.string().nullable().meta({ description: 'Fingerprint of the baseline; null without facts.' }),
  stale: z.boolean().meta({ description: 'No host is live: the baseline uses the last known state of all.' }),
  ties: z.number().int().meta({ description: 'Paths without a dominant value.' }),
  outlierHosts: z.number().int().meta({ description: 'Hosts off the baseline on at least one behavior path.' }),
  openDrift: z.number().int().meta({ description: 'Open drift events concerning the environment.' }),
  upstream: z.string().nullable().meta({ description: 'Previous environment in the promotion order.' }),
  downstream: z.string().nullable().meta({ description: 'Next environment in the promotion order.' }),
});

export const environmentsResponseSchema = z.array(environmentSummarySchema);

export const baselineTieSchema = z.object({
  path: z.string(),
  candidates: z.array(
    z.object({
      value: factValue.optional().meta({ description: 'Absent: the path is missing on those hosts.' }),
      hosts: z.number().int(),
    }),
  ),
});

export const baselineResponseSchema = z.object({
  environment: z.string(),
  hosts: z.number().int().meta({ description: 'Hosts the baseline was computed from.' }),
  stale: z.boolean(),
  fingerprint: z.string().meta({ description: 'Fingerprint of `facts`.' }),
  facts: factMap.meta({ description: 'Dominant value of every compared path; tied paths are left out.' }),
  ties: z.array(baselineTieSchema),
  support: z.record(z.string(), z.number().int()).meta({ description: 'Per path, hosts holding the dominant value.' }),
  classes: z
    .array(classRuleSchema)
    .meta({ description: 'The aggregator’s class overrides, so `verify` classifies paths exactly as the API does.' }),
  secretPolicy: z
    .array(z.object({ glob: z.string(), expect: z.enum(['differ', 'equal']) }))
    .optional()
    .meta({
      description: 'The config `secretPolicy`, so `verify --against` judges secrets exactly as `/compare` does.',
    }),
});

export const outlierSchema = z.object({
  hostId: z.string(),
  path: z.string(),
  expected: factValue.optional().meta({ description: 'Baseline value; absent when the baseline lacks the path.' }),
  actual: factValue.optional().meta({ description: 'Host value; absent when the host lacks the path.' }),
  class: z.enum(['behavior', 'scale']),
  status: differenceStatusSchema,
  exception: exceptionRefSchema.optional(),
});

export const outliersResponseSchema = z.object({
  environment: z.string(),
  hosts: z.number().int(),
  stale: z.boolean(),
  outliers: z.array(outlierSchema),
  total: z.number().int().meta({ description: 'Outliers in all (the answer lists at most `limit`).' }),
  truncated: z.boolean().meta({ description: 'More than `limit` outliers: only the first `limit` are listed.' }),
});

// --- compare -----------------------------------------------------------------------------------

export const compareSideSchema = z.object({
  kind: z.enum(['environment', 'host']),
  name: z.string().meta({ description: 'Environment name or host id.' }),
  environment: z.string().nullable().meta({ description: 'The environment exceptions are matched with.' }),
  fingerprint: z.string().nullable(),
  ties: z.array(baselineTieSchema).meta({ description: 'Tied baseline paths of an environment side.' }),
});

export const compareDifferenceSchema = z.object({
  path: z.string(),
  category: z.string(),
  from: factValue.optional().meta({ description: 'Absent when the path exists only on the `to` side.' }),
  to: factValue.optional().meta({ description: 'Absent when the path exists only on the `from` side.' }),
  status: differenceStatusSchema,
  exception: exceptionRefSchema.optional(),
  tie: z.literal(true).optional().meta({ description: 'The path is tied in a side’s baseline.' }),
  secretPolicy: z.enum(['differ', 'equal']).optional().meta({
    description:
      'The config `secretPolicy` of this secret path: `differ` (equal hashes: the other side uses this secret) or `equal`.',
  }),
});

export const compareResponseSchema = z.object({
  from: z.string().meta({ description: 'Environment name, or `host:ID`.' }),
  to: z.string(),
  parity: z.number().min(0).max(1),
  compared: z.number().int(),
  differences: z.array(compareDifferenceSchema),
  sides: z.object({ from: compareSideSchema, to: compareSideSchema }),
});

// --- drift -------------------------------------------------------------------------------------

export const driftEventSchema = z.object({
  id: z.string(),
  kind: z.enum(STORED_DRIFT_KINDS),
  environment: z.string(),
  otherEnvironment: z.string().optional(),
  hostId: z.string().optional(),
  path: z.string(),
  expected: factValue.optional(),
  actual: factValue.optional(),
  status: z.enum(DRIFT_STATUSES),
  openedAt: isoDateTime,
  resolvedAt: isoDateTime.optional(),
  emergency: z.boolean().optional(),
  upstream: z.string().optional(),
  seq: z.number().int().optional(),
  count: z.number().int().optional().meta({ description: 'Kind `outlier`: paths of the host off the baseline.' }),
  paths: z
    .array(z.string())
    .optional()
    .meta({ description: 'Kind `outlier`: the first (at most 10, sorted) paths of the hosts off the baseline.' }),
  hosts: z
    .array(z.string())
    .optional()
    .meta({
      description:
        'The hosts the event is about (at most 100, sorted): an outlier group’s hosts, the `otherEnvironment` ' +
        'hosts holding `actual` (pair), the lost host.',
    }),
  hostCount: z.number().int().optional().meta({ description: 'How many hosts in all.' }),
  lastSeen: isoDateTime.optional().meta({ description: 'Kind `lost`: when the host was last heard from.' }),
  resolution: z.enum(DRIFT_RESOLUTIONS).optional().meta({ description: 'Why a resolved event resolved.' }),
  exception: exceptionRefSchema
    .optional()
    .meta({ description: '`resolution: justified`: the exception that covers the difference now.' }),
  resolvedEvents: z.array(z.string()).optional(),
});

export const driftResponseSchema = z.object({ events: z.array(driftEventSchema), truncated: z.boolean() });

// --- fleet queries -----------------------------------------------------------------------------

export const distributionResponseSchema = z.object({
  path: z.string(),
  environment: z.string().optional(),
  hosts: z.number().int().meta({ description: 'Hosts looked at (with facts).' }),
  missing: z.number().int().meta({ description: 'Of those, hosts without the path.' }),
  values: z.array(z.object({ value: factValue, hosts: z.number().int() })),
});

// --- tokens ------------------------------------------------------------------------------------

export const createTokenBodySchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  scope: z.enum(API_TOKEN_SCOPES),
});

export const tokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  scope: z.enum(API_TOKEN_SCOPES),
  createdAt: isoDateTime,
  revokedAt: isoDateTime.nullable(),
});

export const createdTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  scope: z.enum(API_TOKEN_SCOPES),
  token: z.string().meta({ description: 'The clear token: shown once, stored only as its sha256.' }),
  createdAt: isoDateTime,
});

export const tokensResponseSchema = z.object({ tokens: z.array(tokenSchema) });

export const revokedTokenSchema = z.object({ id: z.string(), revokedAt: isoDateTime });

// --- exceptions --------------------------------------------------------------------------------

export const createExceptionBodySchema = z.strictObject({
  path: z.string().min(1).meta({ description: 'Path glob (`*` in a segment, `**` across segments).' }),
  environments: z
    .array(environmentNameSchema)
    .min(1)
    .max(2)
    .refine((names) => new Set(names).size === names.length, 'environment names must differ')
    .meta({ description: 'An unordered pair, or one environment for differences inside it.' }),
  reason: z.string().trim().min(1, 'a reason is required'),
  impact: z.string().trim().min(1).optional(),
  owner: z.string().trim().min(1).optional(),
  expiresAt: z.iso
    .datetime({ offset: true })
    .nullable()
    .optional()
    .meta({ description: 'ISO 8601 time in the future; absent or null: no expiry.' }),
});

export const exceptionSchema = z.object({
  id: z.string(),
  path: z.string(),
  environments: z.array(z.string()),
  reason: z.string(),
  impact: z.string().optional(),
  owner: z.string().optional(),
  expiresAt: isoDateTime.nullable(),
  createdAt: isoDateTime,
  createdBy: z.string().optional(),
  expired: z.boolean(),
  source: z
    .string()
    .meta({ description: '`api` (created through the API) or `file:<path>` (the exceptions file; change it there).' }),
});

export const exceptionsResponseSchema = z.object({ exceptions: z.array(exceptionSchema) });

export const deletedSchema = z.object({ id: z.string(), deleted: z.literal(true) });
