/**
 * `DELETE /api/v1/hosts/:id` (admin): retires a host. It leaves host lists, environment counts and
 * baselines at once; its facts and history stay readable (`GET /api/v1/hosts/:id` answers with
 * `retiredAt`); its agent token stops authenticating and a live socket is closed with 4013 (`host
 * retired`); enrolling the same host id again is refused with the same code. A host that should come
 * back enrolls under a new host id.
 */
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../errors.js';
import type { FactStore } from '../store/fact-store.js';
import type { ApiRouter } from './api-router.js';
import { isoDateTime } from './api-schemas.js';
import { recordAdminAction } from './audit-log-routes.js';
import { hostParamsSchema } from './hosts-routes.js';

export const retiredHostSchema = z.object({
  id: z.string(),
  retired: z.literal(true),
  retiredAt: isoDateTime,
  environment: z.string().nullable().meta({ description: 'The environment the host left.' }),
  tokenRevoked: z.literal(true).meta({ description: 'The agent token no longer authenticates.' }),
});

/** What the route needs of the agent gateway: close the retired host's live socket. */
export interface RetiredHostDisconnector {
  disconnectRetired(hostId: string): void;
}

export function registerHostRetirementRoutes(
  router: ApiRouter,
  { store, agents, now }: { store: FactStore; agents: RetiredHostDisconnector | undefined; now: () => number },
): void {
  router.add(
    {
      method: 'delete',
      path: '/api/v1/hosts/:id',
      operationId: 'retireHost',
      summary: 'Retire a host: out of lists and baselines, token revoked, kept out; history kept',
      description:
        'The host leaves `GET /api/v1/hosts`, environment counts and baselines; `GET /api/v1/hosts/:id` still ' +
        'answers (with `retiredAt`). Its agent is disconnected with close code 4013 and refused from then on, and ' +
        'the host id cannot be enrolled again (enroll the machine under a new host id). 409 when already retired.',
      tag: 'hosts',
      auth: 'admin',
      params: hostParamsSchema,
      response: retiredHostSchema,
      notFound: true,
      conflict: true,
    },
    async ({ params, c }) => {
      const host = store.getHost(params.id);
      if (!host) throw new NotFoundError(`unknown host ${JSON.stringify(params.id)}`);
      if (host.retiredAt !== null) {
        throw new ConflictError(
          `host ${JSON.stringify(params.id)} is already retired (since ${new Date(host.retiredAt).toISOString()})`,
        );
      }
      const at = now();
      await store.retireHost(host.id, at, c.get('principal').name);
      agents?.disconnectRetired(host.id);
      await recordAdminAction(store, c, 'host.retired', { hostId: host.id, environment: host.environment }, at);
      return {
        id: host.id,
        retired: true as const,
        retiredAt: new Date(at).toISOString(),
        environment: host.environment,
        tokenRevoked: true as const,
      };
    },
  );
}
