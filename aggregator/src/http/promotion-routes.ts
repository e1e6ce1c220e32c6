/**
 * `/api/v1/promotion`: changes waiting to be promoted, and changes out of order, per pair of
 * environments (one pair, or each adjacent pair of the promotion order). Times are ISO here; the
 * computation is PromotionQueries'.
 */
import { z } from 'zod';
import type { PromotionPair, PromotionQueries } from '../queries/promotion-queries.js';
import type { OutOfOrderChange, WaitingChange } from '../queries/promotion-tracking.js';
import { PROMOTE_ACTION, UPSTREAM_ACTION } from '../queries/promotion-tracking.js';
import type { ApiRouter } from './api-router.js';
import { environmentNameSchema, exceptionRefSchema, factValue, isoDateTime, limitQuery } from './api-schemas.js';

export const DEFAULT_PROMOTION_LIMIT = 1000;
export const MAX_PROMOTION_LIMIT = 10_000;

const promotionQuery = z
  .strictObject({
    from: environmentNameSchema.optional().meta({ description: 'Upstream environment (with `to`).' }),
    to: environmentNameSchema.optional().meta({ description: 'Downstream environment (with `from`).' }),
    limit: limitQuery(MAX_PROMOTION_LIMIT, DEFAULT_PROMOTION_LIMIT).meta({
      description: `Items per list and pair at most: 1-${MAX_PROMOTION_LIMIT}, default ${DEFAULT_PROMOTION_LIMIT} (\`counts\` has the totals).`,
    }),
  })
  .superRefine((q, ctx) => {
    if ((q.from === undefined) === (q.to === undefined)) return;
    const missing = q.from === undefined ? 'from' : 'to';
    const other = missing === 'from' ? 'to' : 'from';
    ctx.addIssue({
      code: 'custom',
      path: [missing],
      message: `\`${missing}\` is required with \`${other}\` (give both, or neither for every adjacent pair of the promotion order)`,
    });
  });

const changeFields = {
  path: z.string(),
  category: z.string(),
  value: factValue.meta({ description: 'The new value.' }),
  previous: factValue
    .optional()
    .meta({ description: 'What the first change to it replaced (absent: it added the path).' }),
  since: isoDateTime.meta({ description: 'When the first host got it.' }),
  ageSeconds: z.number().int().nonnegative(),
  fromHosts: z.number().int().nonnegative().meta({ description: '`from` baseline hosts holding the value.' }),
  fromTotal: z.number().int().nonnegative(),
  toHosts: z.number().int().nonnegative().meta({ description: '`to` baseline hosts holding the value so far.' }),
  toTotal: z.number().int().nonnegative(),
};

export const waitingChangeSchema = z.object({
  ...changeFields,
  action: z.literal(PROMOTE_ACTION),
  toValue: factValue.optional().meta({ description: '`to`’s baseline value (absent: lacking or tied).' }),
  majoritySince: isoDateTime
    .nullable()
    .meta({ description: 'When more than half of `from`’s hosts held it; null: it leads without a majority.' }),
});

export const outOfOrderChangeSchema = z.object({
  ...changeFields,
  action: z.literal(UPSTREAM_ACTION),
  fromValue: factValue.optional().meta({ description: '`from`’s baseline value (absent: lacking or tied).' }),
});

export const justifiedChangeSchema = z.object({
  path: z.string(),
  category: z.string(),
  value: factValue,
  toValue: factValue.optional(),
  exception: exceptionRefSchema,
});

export const promotionPairSchema = z.object({
  from: z.string(),
  to: z.string(),
  counts: z.object({
    waiting: z.number().int().nonnegative(),
    outOfOrder: z.number().int().nonnegative(),
    justified: z.number().int().nonnegative(),
  }),
  waiting: z.array(waitingChangeSchema).meta({ description: 'Oldest first.' }),
  outOfOrder: z.array(outOfOrderChangeSchema).meta({ description: 'Oldest first.' }),
  justified: z.array(justifiedChangeSchema),
  note: z.string().optional().meta({ description: 'Why the lists are empty: a side has no reporting hosts yet.' }),
});

export const promotionResponseSchema = z.object({
  at: isoDateTime,
  pairs: z.array(promotionPairSchema),
  note: z.string().optional().meta({ description: 'Why `pairs` is empty: no promotion order configured.' }),
  historyTruncated: z
    .boolean()
    .meta({ description: 'An environment had more recorded changes than are read per request; the oldest were not.' }),
});

const iso = (ms: number) => new Date(ms).toISOString();

function waitingJson({ since, majoritySince, ...change }: WaitingChange): z.input<typeof waitingChangeSchema> {
  return { ...change, since: iso(since), majoritySince: majoritySince === null ? null : iso(majoritySince) };
}

function outOfOrderJson({ since, ...change }: OutOfOrderChange): z.input<typeof outOfOrderChangeSchema> {
  return { ...change, since: iso(since) };
}

export function promotionPairJson(pair: PromotionPair, limit: number): z.input<typeof promotionPairSchema> {
  return {
    from: pair.from,
    to: pair.to,
    counts: { waiting: pair.waiting.length, outOfOrder: pair.outOfOrder.length, justified: pair.justified.length },
    waiting: pair.waiting.slice(0, limit).map(waitingJson),
    outOfOrder: pair.outOfOrder.slice(0, limit).map(outOfOrderJson),
    justified: pair.justified.slice(0, limit),
    ...(pair.note !== undefined ? { note: pair.note } : {}),
  };
}

export function registerPromotionRoutes(router: ApiRouter, { promotion }: { promotion: PromotionQueries }): void {
  router.add(
    {
      method: 'get',
      path: '/api/v1/promotion',
      operationId: 'promotion',
      summary: 'Changes waiting to be promoted, and changes that reached downstream first',
      description:
        'For `from`/`to` (both, or neither for each adjacent pair of the config `promotion`). `waiting` ' +
        '(action `promote`): behavior paths `from` changed (its change history) to the value its baseline holds ' +
        'now, which `to`’s baseline does not hold yet; it leaves once `to`’s baseline holds it. A value `from` ' +
        'held before any recorded change to it is no promotion (a difference the two always had: see compare). ' +
        '`outOfOrder` (action `apply to upstream`): behavior paths `to` changed to a value some `to` hosts hold, ' +
        'which `from` did not get first and its baseline does not hold; it leaves once `from`’s baseline holds ' +
        'it. Identity, volatile and scale paths never count, nor secrets the `secretPolicy` expects to differ; ' +
        'a path an active exception covers between the pair is `justified`, not waiting. Host counts are of ' +
        'each baseline’s hosts. Without a promotion order and without a pair: `pairs: []` and a `note`.',
      tag: 'promotion',
      auth: 'read',
      query: promotionQuery,
      response: promotionResponseSchema,
      notFound: true,
    },
    async ({ query }) => {
      const report = await promotion.report(
        query.from !== undefined && query.to !== undefined ? { from: query.from, to: query.to } : undefined,
      );
      return {
        at: iso(report.at),
        pairs: report.pairs.map((pair) => promotionPairJson(pair, query.limit)),
        ...(report.note !== undefined ? { note: report.note } : {}),
        historyTruncated: report.historyTruncated,
      };
    },
  );
}
