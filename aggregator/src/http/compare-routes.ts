/**
 * `/api/v1/compare`: two environments (their baselines), two hosts, or a host against an
 * environment, path by path, judged by the shared `compareFacts` with the stored exceptions — the
 * function the agent's `verify` uses, so the API and `verify` always agree.
 */
import { CATEGORIES } from '@envparity/shared';
import { z } from 'zod';
import type { CompareSide } from '../queries/compare-sides.js';
import type { FleetQueries } from '../queries/fleet-queries.js';
import type { ApiRouter } from './api-router.js';
import { categoryListQuery, compareResponseSchema } from './api-schemas.js';

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
      .meta({ description: `Only these categories, comma-separated (${CATEGORIES.join(', ')}).` }),
  })
  .superRefine((q, ctx) => {
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

export function registerCompareRoutes(router: ApiRouter, { queries }: { queries: FleetQueries }): void {
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
        '(`tie: true`), exactly as `verify --against` sees the baseline.',
      tag: 'compare',
      auth: 'read',
      query: compareQuery,
      response: compareResponseSchema,
      notFound: true,
    },
    async ({ query }) => {
      const comparison = await queries.compare(
        { environment: query.from, host: query.fromHost },
        { environment: query.to, host: query.toHost },
        query.category,
      );
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
      };
    },
  );
}
