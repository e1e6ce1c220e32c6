/**
 * `/api/v1/drift`: the drift events the engine opened and resolved — outliers, environment-pair
 * differences and emergency changes — newest first. Reads first publish exception expiries, so an
 * expired exception's drift is listed as soon as anyone looks.
 */
import { z } from 'zod';
import type { FleetQueries } from '../queries/fleet-queries.js';
import { DRIFT_STATUSES, STORED_DRIFT_KINDS } from '../store/fact-store.js';
import type { ApiRouter } from './api-router.js';
import { driftResponseSchema, environmentNameSchema, limitQuery } from './api-schemas.js';

export const DEFAULT_DRIFT_LIMIT = 1000;
export const MAX_DRIFT_LIMIT = 10_000;

const driftQuery = z.strictObject({
  status: z.enum(DRIFT_STATUSES).optional(),
  environment: environmentNameSchema.optional().meta({ description: 'Either side of the event.' }),
  kind: z.enum(STORED_DRIFT_KINDS).optional(),
  hostId: z.string().min(1).optional(),
  limit: limitQuery(MAX_DRIFT_LIMIT, DEFAULT_DRIFT_LIMIT),
});

export function registerDriftRoutes(router: ApiRouter, { queries }: { queries: FleetQueries }): void {
  router.add(
    {
      method: 'get',
      path: '/api/v1/drift',
      operationId: 'listDriftEvents',
      summary: 'Drift events (outlier, environment, lost), newest first',
      description:
        '`outlier`: hosts off their environment’s baseline, one event per cause (`path`, `expected` and `actual`: ' +
        'the hosts’ first path off the baseline with its values; `hosts` lists them; open events also carry ' +
        '`count`, the paths off the baseline now, and `paths`, the first 10 of them). `environment`: a difference ' +
        'between two environments (`environment` is the upstream/`from` side, `expected` its value, `actual` ' +
        'the other’s, `hosts` the other side’s hosts holding it). `emergency: true` marks an event caused by a ' +
        'change that reached an environment before its upstream ever had the value. `lost`: a host offline past ' +
        'the presence grace. `emergency` (kind): events of older versions. Resolved events say why ' +
        '(`resolution`). Justified differences and tied paths never open events.',
      tag: 'drift',
      auth: 'read',
      query: driftQuery,
      response: driftResponseSchema,
    },
    async ({ query }) => {
      const { items, truncated } = await queries.driftEvents(stripUndefined(query));
      return { events: items, truncated };
    },
  );
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
