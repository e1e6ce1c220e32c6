/**
 * `/api/v1/compare`: two environments (their baselines), two hosts, or a host against an
 * environment, path by path, judged by the shared `compareFacts` with the stored exceptions — the
 * function the agent's `verify` uses, so the API and `verify` always agree.
 */
import { PROTOCOL_CATEGORIES } from '@envparity/shared';
import { z } from 'zod';
import type { CompareSide } from '../queries/compare-sides.js';
import type { FleetQueries } from '../queries/fleet-queries.js';
import type { HistoryQueries } from '../queries/history-queries.js';
import type { ApiRouter } from './api-router.js';
import { categoryListQuery } from './api-schemas.js';
import { compareAtSchema, instantQuery } from './history-schemas.js';

export { HOST_SIDE_PREFIX } from '../queries/compare-sides.js';

const sideSchema = z
  .string()
  .regex(/^(host:.+|[A-Za-z0-9_-]+)$/, 'expected an environment name or host:ID')
  .meta({ description: 'Environment name, or `host:ID` for one host.' });

const compareQuery = z
  .strictObject({
    from: sideSchema.optional(),
    to: sideSchema.optional(),
    fromHost: z.string().min(1).optional().meta({ description: 'Host id (same as `from=host:ID`).' }),
    toHost: z.string().min(1).optional().meta({ description: 'Host id (same as `to=host:ID`).' }),
    category: categoryListQuery
      .optional()
      .meta({ description: `Only these categories, comma-separated (${PROTOCOL_CATEGORIES.join(', ')}).` }),
    at: instantQuery('both sides').optional(),
    fromAt: instantQuery('the `from` side (the other one now, unless `toAt`)').optional(),
    toAt: instantQuery('the `to` side (the other one now, unless `fromAt`)').optional(),
  })
  .superRefine((q, ctx) => {
    if (q.at !== undefined && (q.fromAt !== undefined || q.toAt !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['at'],
        message: 'give `at` (both sides) or `fromAt`/`toAt` (one side each), not both',
      });
    }
    for (const side of ['from', 'to'] as const) {
      const host = `${side}Host` as const;
      if (q[side] === undefined && q[host] === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [side],
          message: `\`${side}\` (an environment) or \`${host}\` is required`,
        });
      } else if (q[side] !== undefined && q[host] !== undefined) {
        ctx.addIssue({ code: 'custom', path: [host], message: `give \`${side}\` or \`${host}\`, not both` });
      }
    }
  });

export function registerCompareRoutes(
  router: ApiRouter,
  { queries, history }: { queries: FleetQueries; history: HistoryQueries },
): void {
  router.add(
    {
      method: 'get',
      path: '/api/v1/compare',
      operationId: 'compare',
      summary: 'Compare two environments (baselines), two hosts, or a host with an environment',
      description:
        'Each side is `from`/`to` (an environment name, or `host:ID`) or `fromHost`/`toHost`. Identity and ' +
        'volatile facts never appear; `status` is `drift`, `justified` (an active exception whose environments ' +
        'include both sides’ environments), `secret-policy` (a secret path of the config `secretPolicy` whose ' +
        'hashes are equal where they should differ, or differ where they should be equal; counts like drift) or ' +
        '`scale` (never lowers `parity`). `parity` = equal or justified ' +
        'behavior paths / compared behavior paths. A path tied in a side’s baseline is absent from that side ' +
        '(`tie: true`), exactly as `verify --against` sees the baseline. Time travel: `at=ISO` compares both sides ' +
        'as they were then, `fromAt`/`toAt` one side each (e.g. staging now against production at the incident); ' +
        'a past side is rebuilt from the stored history (GET /environments/:env/baseline?at=, GET /hosts/:id?at=) and ' +
        'judged by the same comparison with the exceptions and secret policy as they are now. 409 when a side has ' +
        'no history that far back, 400 for a future instant.',
      tag: 'compare',
      auth: 'read',
      query: compareQuery,
      response: compareAtSchema,
      notFound: true,
      conflict: true,
    },
    async ({ query }) => {
      const fromRef = { environment: query.from, host: query.fromHost };
      const toRef = { environment: query.to, host: query.toHost };
      const travel = query.at !== undefined || query.fromAt !== undefined || query.toAt !== undefined;
      const comparison = travel
        ? await history.compareAt(
            fromRef,
            toRef,
            {
              ...((query.at ?? query.fromAt) !== undefined ? { fromAt: (query.at ?? query.fromAt) as number } : {}),
              ...((query.at ?? query.toAt) !== undefined ? { toAt: (query.at ?? query.toAt) as number } : {}),
              fromParam: query.at !== undefined ? 'at' : 'fromAt',
              toParam: query.at !== undefined ? 'at' : 'toAt',
            },
            query.category,
          )
        : { ...(await queries.compare(fromRef, toRef, query.category)), fromAt: undefined, toAt: undefined };
      const { from, to } = comparison;
      const tied = new Set([...from.ties, ...to.ties].map((tie) => tie.path));
      const side = ({ kind, name, environment, fingerprint, ties }: CompareSide) => ({
        kind,
        name,
        environment,
        fingerprint,
        ties,
      });
      return {
        from: from.label,
        to: to.label,
        parity: comparison.parity,
        compared: comparison.compared,
        differences: comparison.differences.map((difference) =>
          tied.has(difference.path) ? { ...difference, tie: true as const } : difference,
        ),
        sides: { from: side(from), to: side(to) },
        ...(travel ? { fromAt: isoOrNull(comparison.fromAt ?? null), toAt: isoOrNull(comparison.toAt ?? null) } : {}),
      };
    },
  );
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
