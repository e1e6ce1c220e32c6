/**
 * `/api/v1/facts/distribution`: fleet inventory of one fact — which values exist and on how many
 * hosts. Counted per category blob (hosts sharing a category share its blob), so a fleet of
 * 10,000 hosts running a few images costs a few lookups per image.
 */
import { z } from 'zod';
import type { FleetQueries } from '../queries/fleet-queries.js';
import type { ApiRouter } from './api-router.js';
import { distributionResponseSchema, environmentNameSchema, factPathSchema } from './api-schemas.js';

const distributionQuery = z.strictObject({
  path: factPathSchema,
  environment: environmentNameSchema.optional(),
});

export function registerFactsRoutes(router: ApiRouter, { queries }: { queries: FleetQueries }): void {
  router.add(
    {
      method: 'get',
      path: '/api/v1/facts/distribution',
      operationId: 'getFactDistribution',
      summary: 'Values of one fact path across the fleet (or one environment), with host counts',
      description:
        'Most common value first. Only hosts that reported facts are counted; `missing` of them lack the path.',
      tag: 'facts',
      auth: 'read',
      query: distributionQuery,
      response: distributionResponseSchema,
      notFound: true,
    },
    ({ query }) => {
      const { hosts, missing, values } = queries.distribution(query.path, query.environment);
      return {
        path: query.path,
        ...(query.environment !== undefined ? { environment: query.environment } : {}),
        hosts,
        missing,
        values,
      };
    },
  );
}
