/**
 * `/api/v1/changes`: the environment-wide change feed, newest first, paged ("what changed in
 * production in the two hours before it broke"). One indexed read per page (changes by environment
 * and time); the cursor is the time of the last change shown and how many at that time were shown,
 * so pages neither repeat nor skip changes recorded at the same millisecond.
 */
import { compilePathGlob } from '@envparity/shared';
import { z } from 'zod';
import { type ChangeCursor, MAX_CHANGE_CURSOR_SKIP } from '../queries/fleet-queries.js';
import type { ApiRouter } from './api-router.js';
import { environmentNameSchema, isoTimeQuery, limitQuery } from './api-schemas.js';
import { changeFeedResponseSchema } from './history-schemas.js';
import type { ReportRouteDeps } from './report-route-deps.js';

export const DEFAULT_FEED_LIMIT = 100;
export const MAX_FEED_LIMIT = 1000;

/** `ISO` or `ISO,N` (N changes at that very time already shown). */
export function formatChangeCursor({ at, skip }: ChangeCursor): string {
  const time = new Date(at).toISOString();
  return skip > 0 ? `${time},${skip}` : time;
}

const cursorSchema = z
  .string()
  .transform((text, ctx) => {
    const [time = '', count = '0', ...rest] = text.split(',');
    const at = /^\d{4}-\d{2}-\d{2}(T|$)/.test(time) ? Date.parse(time) : Number.NaN;
    const skip = /^\d+$/.test(count) ? Number(count) : Number.NaN;
    if (rest.length > 0 || Number.isNaN(at) || Number.isNaN(skip) || skip > MAX_CHANGE_CURSOR_SKIP) {
      ctx.addIssue({ code: 'custom', message: 'expected the `next` cursor of a previous page (ISO time[,count])' });
      return z.NEVER;
    }
    return { at, skip } satisfies ChangeCursor;
  })
  .meta({ description: 'The `next` cursor of the previous page (an ISO time, optionally `,N`).' });

const pathGlobSchema = z
  .string()
  .min(1)
  .superRefine((glob, ctx) => {
    try {
      compilePathGlob(glob);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `${(error as Error).message} (e.g. library.* or config.**)` });
    }
  })
  .meta({
    description:
      'Only paths matching this glob (`library.*`, `config.**`); a plain path also matches the paths under it.',
  });

const feedQuery = z
  .strictObject({
    environment: environmentNameSchema.optional(),
    since: isoTimeQuery.optional().meta({ description: 'ISO time, inclusive.' }),
    until: isoTimeQuery.optional().meta({ description: 'ISO time, inclusive.' }),
    limit: limitQuery(MAX_FEED_LIMIT, DEFAULT_FEED_LIMIT),
    before: cursorSchema.optional(),
    path: pathGlobSchema.optional(),
  })
  .superRefine((q, ctx) => {
    if (q.environment === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['environment'],
        message: '`environment` is required (the feed is per environment)',
      });
    }
    if (q.since !== undefined && q.until !== undefined && q.since > q.until) {
      ctx.addIssue({ code: 'custom', path: ['until'], message: '`until` is before `since`' });
    }
  });

export function registerChangesRoutes(router: ApiRouter, { history }: ReportRouteDeps): void {
  router.add(
    {
      method: 'get',
      path: '/api/v1/changes',
      operationId: 'listEnvironmentChanges',
      summary: 'Every change recorded in one environment, newest first, paged',
      description:
        'Changes of the hosts that were in `environment` when they changed (each stamped then), observed between ' +
        '`since` and `until` (both inclusive), newest first, at most `limit` per page; `next` is the cursor of the ' +
        'older page (pass it as `before`), null at the end. With `path` a page scans at most 50,000 changes and may ' +
        'come back short with a `next` cursor to go on from. Volatile facts are not recorded as changes.',
      tag: 'hosts',
      auth: 'read',
      query: feedQuery,
      response: changeFeedResponseSchema,
      notFound: true,
    },
    async ({ query }) => {
      const page = await history.environmentChanges(query.environment as string, {
        ...(query.since !== undefined ? { since: query.since } : {}),
        ...(query.until !== undefined ? { until: query.until } : {}),
        ...(query.before !== undefined ? { before: query.before } : {}),
        ...(query.path !== undefined ? { path: query.path } : {}),
        limit: query.limit,
      });
      return {
        environment: page.environment,
        changes: page.items.map((change) => {
          const out: z.input<typeof changeFeedResponseSchema>['changes'][number] = {
            at: new Date(change.at).toISOString(),
            hostId: change.hostId,
            seq: change.seq,
            path: change.path,
          };
          if (change.from !== undefined) out.from = change.from;
          if (change.to !== undefined) out.to = change.to;
          if (change.emergency) out.emergency = true;
          return out;
        }),
        next: page.next ? formatChangeCursor(page.next) : null,
      };
    },
  );
}
