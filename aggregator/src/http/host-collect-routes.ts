/**
 * `POST /api/v1/hosts/:id/collect` (admin): asks a host's agent to collect now instead of at its
 * next interval (the protocol's `collect` message), for every category or the ones named. With
 * several aggregators on one database the request reaches the agent wherever it is connected. The
 * answer says the agent was asked; its report follows like any other (watch the host's facts).
 */
import { CATEGORIES, EXTRA_CATEGORIES } from '@envparity/shared';
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../errors.js';
import type { FactStore } from '../store/fact-store.js';
import type { ApiRouter } from './api-router.js';
import { recordAdminAction } from './audit-log-routes.js';
import { hostParamsSchema } from './hosts-routes.js';

export const collectRequestSchema = z
  .object({
    categories: z
      .array(z.enum([...CATEGORIES, ...EXTRA_CATEGORIES]))
      .min(1)
      .optional()
      .meta({ description: 'Only these categories (all of them when absent).' }),
  })
  .strict();

export const collectRequestedSchema = z.object({
  id: z.string(),
  requested: z.literal(true).meta({ description: 'The agent was sent `collect`; its report follows.' }),
  categories: z.array(z.string()).nullable(),
});

/** What the route needs of agents' sockets. */
export interface CollectRequester {
  requestCollect(hostId: string, categories?: string[]): boolean;
}

export function registerHostCollectRoutes(
  router: ApiRouter,
  { store, agents, now }: { store: FactStore; agents: CollectRequester | undefined; now: () => number },
): void {
  router.add(
    {
      method: 'post',
      path: '/api/v1/hosts/:id/collect',
      operationId: 'collectHostNow',
      summary: 'Ask a host’s agent to collect and report now',
      description:
        'Sends the connected agent a `collect` message (every category, or `categories`). 404 for an unknown host, ' +
        '409 when its agent is not connected to any aggregator.',
      tag: 'hosts',
      auth: 'admin',
      params: hostParamsSchema,
      body: collectRequestSchema,
      optionalBody: true,
      response: collectRequestedSchema,
      notFound: true,
      conflict: true,
    },
    async ({ params, body, c }) => {
      const host = store.getHost(params.id);
      if (!host || host.retiredAt !== null) throw new NotFoundError(`unknown host ${JSON.stringify(params.id)}`);
      const categories = body?.categories;
      if (!agents?.requestCollect(host.id, categories)) {
        throw new ConflictError(`the agent of host ${JSON.stringify(params.id)} is not connected`);
      }
      await recordAdminAction(
        store,
        c,
        'host.collect-requested',
        { hostId: host.id, categories: categories ?? null },
        now(),
      );
      return { id: host.id, requested: true as const, categories: categories ?? null };
    },
  );
}
